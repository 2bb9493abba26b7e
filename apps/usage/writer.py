"""The deferred ledger writer: web requests hand their finished calls to a thread that
writes them in batches, so no request waits on the ledger's INSERT and its commit.

Measured (bench/ledger_overhead.py, docs/benchmarks.md): writing inline, one commit per
call, added 27% to the p50 of a chat message and 23% to a search's on a loaded 2-CPU
machine; deferred, 0.8% and none (within the noise): the request only builds the row and
puts it on a queue.

One writer per process, started on first use and again after a fork (a preloading
server forks workers from a parent whose threads do not follow). The thread takes what
is queued over LINGER seconds, up to BATCH rows, and writes them in one transaction
(`services.model_calls_write`, ON CONFLICT DO NOTHING on the idempotency key). What it
costs: rows reach the table up to LINGER (0.2 s) late (readers see the call once
written), and the rows still queued when a process is killed outright are lost, as the
calls it was making are; a normal exit writes them first (`atexit`: gunicorn's workers
exit so on a stop or restart, tests/usage/test_e2e_deferred.py). uvicorn (config.asgi)
re-raises SIGTERM after its shutdown, which skips `atexit`: there a stop loses the
last 0.2 s of rows. The thread borrows a database connection while it writes (from the
pool with DB_POOL, the web server's default; without a pool it keeps one more
connection per process). A failed batch is logged and dropped: the ledger may
undercount, never fails a request, never counts twice. Celery workers write inline
(`apps.usage.apps`): a task has no user waiting, and its retries rely on the row being
written before it returns.
"""

from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time

from django.db import close_old_connections, connection

from apps.usage.models import ModelCall
from apps.usage.services import model_call_row, model_calls_write
from launch.ai.metering import CallRecord

logger = logging.getLogger(__name__)

BATCH = 500
# After the first row, gather for this long before writing: the write then happens after
# the response of the request that queued it (not competing with it for the process),
# and a busy process writes one batch per interval instead of one row per call.
LINGER = 0.2
_STOP = object()


class DeferredWriter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = 0
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def submit(self, record: CallRecord) -> None:
        """The metering sink: build the row here (cheap, no query), write it later."""
        self._ensure_running()
        self._queue.put(model_call_row(record))

    def _ensure_running(self) -> None:
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid != os.getpid():  # new process: the parent's queue is not ours
                self._queue = queue.SimpleQueue()
                self._thread = None
                self._pid = os.getpid()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="usage-ledger-writer", daemon=True
                )
                self._thread.start()

    def _take(self, first: object) -> tuple[list[ModelCall], bool]:
        rows: list[ModelCall] = []
        stop = first is _STOP
        if not stop:
            rows.append(first)  # type: ignore[arg-type]
        deadline = time.monotonic() + LINGER
        while len(rows) < BATCH and not stop:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is _STOP:
                stop = True
            else:
                rows.append(item)  # type: ignore[arg-type]
        return rows, stop

    def _run(self) -> None:
        stop = False
        while not stop:
            rows, stop = self._take(self._queue.get())
            if not rows:
                continue
            # As around a request: CONN_MAX_AGE and health checks apply, and with DB_POOL the
            # connection goes back to the pool between batches.
            close_old_connections()
            try:
                model_calls_write(rows)
            except Exception:
                logger.exception("the usage ledger could not write %d call(s)", len(rows))
            finally:
                close_old_connections()
        connection.close()

    def flush(self, timeout: float = 10.0) -> None:
        """Write what is queued and stop the thread (at exit; tests). The next `submit`
        starts a new one."""
        thread = self._thread
        if thread is None or not thread.is_alive() or self._pid != os.getpid():
            return
        self._queue.put(_STOP)
        thread.join(timeout)
        self._thread = None


writer = DeferredWriter()
atexit.register(writer.flush)
