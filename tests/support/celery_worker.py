"""A real Celery worker process for end-to-end tests.

The worker runs `celery -A config worker` with the test settings, the test database and
the test session's broker folder, so a task enqueued by the code under test (on commit)
is consumed by a separate process exactly as in production. Tests that use it must let
their transactions commit (`@pytest.mark.django_db(transaction=True)`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent


def _database_url() -> str:
    db = connection.settings_dict
    host = db.get("HOST") or db.get("OPTIONS", {}).get("host", "")
    port = db.get("PORT") or 5432
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    if host.startswith("/"):
        return f"postgres://{auth}@:{port}/{db['NAME']}?host={quote(host, safe='/')}"
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


class CeleryWorker:
    def __init__(self, concurrency: int = 1, extra_env: dict[str, str] | None = None) -> None:
        self.concurrency = concurrency
        self.extra_env = extra_env or {}
        self.log_path = Path(tempfile.mkstemp(prefix="launch-worker-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None
        self._offset = 0

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.test",
            DATABASE_URL=_database_url(),
            CELERY_BROKER_DIR=str(settings.CELERY_BROKER_DIR),
            MEDIA_ROOT=str(settings.MEDIA_ROOT),
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60) -> CeleryWorker:
        return self.launch().wait_ready(timeout)

    def launch(self) -> CeleryWorker:
        """Start the process without waiting for it (`wait_ready` does), so a caller can
        start other processes meanwhile."""
        self._offset = self.log_path.stat().st_size
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "config", "worker",
                "--loglevel=INFO", f"--concurrency={self.concurrency}",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "--hostname", f"e2e-{os.getpid()}@%h",
            ],
            cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so kill() takes the pool too
        )  # fmt: skip
        log.close()
        return self

    def wait_ready(self, timeout: float = 60) -> CeleryWorker:
        assert self.proc is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the Celery worker exited early:\n{self.log()}")
            if b" ready." in self.log_path.read_bytes()[self._offset :]:
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the Celery worker did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the worker and its pool: what an OOM kill or a lost machine does."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()
