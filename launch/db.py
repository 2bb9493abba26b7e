"""PostgreSQL statement timeouts, and cancelling a request's query when its client leaves.

Every connection starts with `statement_timeout` set through libpq's `options` (in
`DATABASES["default"]["OPTIONS"]["options"]`, so it costs no round trip and composes with
any other option or a connection pool). The settings give it `DB_STATEMENT_TIMEOUT_MS`,
the budget of an API request. Processes that serve no request switch to
`DB_BACKGROUND_STATEMENT_TIMEOUT_MS` (default none) before they connect: Celery workers
and beat (config/celery.py) and management commands other than `runserver` (manage.py),
because a migration may build an index for minutes and a task may embed a large file.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

_TIMEOUT_OPTION = re.compile(r"\s*-c\s*statement_timeout=\S*")


def with_statement_timeout(options: str, milliseconds: int) -> str:
    """libpq `options` with `statement_timeout` set to `milliseconds` (0: none)."""
    rest = _TIMEOUT_OPTION.sub("", options or "").strip()
    return f"{rest} -c statement_timeout={max(0, int(milliseconds))}".strip()


def use_background_statement_timeout() -> None:
    """Switch this process's connections to `DB_BACKGROUND_STATEMENT_TIMEOUT_MS`.

    Takes effect for connections opened afterwards; an open one is closed, so the next
    query reconnects with the new option.
    """
    from django.conf import settings
    from django.db import connections

    database = settings.DATABASES["default"]
    options = database.setdefault("OPTIONS", {})
    options["options"] = with_statement_timeout(
        options.get("options", ""), settings.DB_BACKGROUND_STATEMENT_TIMEOUT_MS
    )
    connections["default"].close()


def is_statement_timeout(error: BaseException) -> bool:
    """True for a statement PostgreSQL cancelled (timeout or cancel request), as Django
    raises it: an OperationalError caused by psycopg's QueryCanceled."""
    from psycopg import errors

    return isinstance(error, errors.QueryCanceled) or isinstance(
        error.__cause__, errors.QueryCanceled
    )


class ClientGone:
    """Set when the client of a request disconnects (see launch/asgi.py).

    Code that runs a query which only the client needs registers a callback with
    `cancel_queries_when_gone`; the callbacks run once, in their own threads (a cancel
    request is a network round trip, and the caller is the server's event loop).
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: dict[int, Callable[[], Any]] = {}
        self._next = 0

    def is_set(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        with self._lock:
            if self._event.is_set():
                return
            self._event.set()
            callbacks = list(self._callbacks.values())
        for callback in callbacks:
            threading.Thread(target=callback, name="cancel-query", daemon=True).start()

    def add(self, callback: Callable[[], Any]) -> int:
        with self._lock:
            self._next += 1
            self._callbacks[self._next] = callback
            return self._next

    def remove(self, key: int) -> None:
        with self._lock:
            self._callbacks.pop(key, None)


@contextmanager
def cancel_queries_when_gone(gone: ClientGone | None) -> Iterator[None]:
    """While the block runs, a disconnect of the client cancels this thread's running
    PostgreSQL statement (which then raises OperationalError). Without a `ClientGone`
    (WSGI, tests, commands) the statement timeout is the only bound."""
    if gone is None:
        yield
        return
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection

    def cancel() -> None:
        # The connection may be closed by now: then there is nothing to cancel.
        with suppress(Exception):
            raw.cancel_safe(timeout=5)

    key = gone.add(cancel)
    try:
        yield
    finally:
        gone.remove(key)
