"""Child processes for tests: start one with its output in a log file, wait until it is
ready, stop it. The one place that knows how; every server and worker in tests/support
is built on `Process`.

Each child runs in a process group of its own (`start_new_session`), so stopping it
stops whatever it started too (a Celery pool, gunicorn's workers).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent.parent


def answers_health_check(port: int) -> bool:
    """Whether a Launch server on 127.0.0.1:`port` answers its health check with 200."""
    health = f"http://127.0.0.1:{port}/api/v1/utils/health-check/"
    try:
        with urllib.request.urlopen(health, timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


class Process:
    """A command run from the project's root with `env`, its output appended to a log."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.log_path = Path(tempfile.mkstemp(prefix=f"launch-{name}-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_offset = 0  # where this launch's output starts in the log
        self.pass_fds: tuple[int, ...] = ()  # descriptors the child inherits (a bound socket)

    def launch(self) -> Process:
        """Start without waiting (`wait_ready` waits), so several can start together."""
        self.log_offset = self.log_path.stat().st_size
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, pass_fds=self.pass_fds,
            )  # fmt: skip
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, ready: Callable[[], bool], timeout: float = 60) -> Process:
        """Poll `ready` until it holds; stop the process and raise, with the end of its
        log, if it exits first or `timeout` passes."""
        assert self.proc is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log()[-4000:]}")
            if ready():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not become ready:\n{self.log()[-4000:]}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def launched_log(self) -> bytes:
        """The output of the latest launch only."""
        return self.log_path.read_bytes()[self.log_offset :]

    def kill(self) -> None:
        """SIGKILL the whole group: what an OOM kill or a lost machine does."""
        if self.alive():
            assert self.proc is not None
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the group, as a process manager does; SIGKILL it after `timeout`."""
        if self.alive():
            assert self.proc is not None
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.kill()


def database_url() -> str:
    """The test session's database as a URL, for a child process to share it."""
    from django.db import connection

    db = connection.settings_dict
    host = db.get("HOST") or db.get("OPTIONS", {}).get("host", "")
    port = db.get("PORT") or 5432
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    if host.startswith("/"):
        return f"postgres://{auth}@:{port}/{db['NAME']}?host={quote(host, safe='/')}"
    return f"postgres://{auth}@{host}:{port}/{db['NAME']}"


def shared_infrastructure() -> dict[str, str]:
    """What a child Launch process must share with the test session: its database, its
    broker folder and its media root."""
    from django.conf import settings

    return {
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_DIR": str(settings.CELERY_BROKER_DIR),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PYTHONUNBUFFERED": "1",
    }
