"""The real Launch web server in its own process, as `make run` starts it.

Same command (`manage.py runserver`, without the file watcher) and the same settings
module (`config.settings.local`, so DEBUG and every local default), in an environment
that holds none of the test session's settings: only the infrastructure it must share
with the test (the test database, the session's broker folder and media root) and what
the caller passes (e.g. `FRONTEND_URL`).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings

from tests.support.celery_worker import _database_url

ROOT = Path(__file__).resolve().parent.parent.parent
# What a shell passes to `make run` that is not a Launch setting.
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "VIRTUAL_ENV")


def free_port(first: int = 18100, last: int = 18199) -> int:
    """A loopback port of the range nobody is listening on now."""
    for port in range(first, last + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


class LaunchServer:
    def __init__(self, port: int, extra_env: dict[str, str] | None = None) -> None:
        self.port = port
        self.extra_env = extra_env or {}
        self.log_path = Path(tempfile.mkstemp(prefix="launch-server-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The API as a front end configured with `VITE_API_URL=http://localhost:8000`
        calls it: by name, not by address."""
        return f"http://localhost:{self.port}"

    def env(self) -> dict[str, str]:
        env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.local",
            DATABASE_URL=_database_url(),
            CELERY_BROKER_DIR=str(settings.CELERY_BROKER_DIR),
            MEDIA_ROOT=str(settings.MEDIA_ROOT),
            PYTHONUNBUFFERED="1",
        )
        if settings.REDIS_URL:  # the test session's broker, whichever it is
            env["REDIS_URL"] = settings.REDIS_URL
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60) -> LaunchServer:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}", "--noreload"],
            cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        health = f"http://127.0.0.1:{self.port}/api/v1/utils/health-check/"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the Launch server exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(health, timeout=5) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the Launch server did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def mark(self) -> int:
        """A position in the log, for `answers(since=...)`."""
        return self.log_path.stat().st_size

    def answers(self, since: int = 0) -> list[tuple[str, str, int]]:
        """(method, path, status) of every request the server answered since `since`,
        preflights left out: what reached Launch, whether or not the page could read it."""
        with self.log_path.open("rb") as log:
            log.seek(since)
            lines = log.read().decode(errors="replace").splitlines()
        answered = []
        for line in lines:
            # launch/logging.py's request line: "... INFO launch.request POST /path 403"
            _, found, rest = line.partition(" launch.request ")
            parts = rest.split()
            if found and len(parts) == 3 and parts[0] != "OPTIONS" and parts[2].isdigit():
                answered.append((parts[0], parts[1], int(parts[2])))
        return answered

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
