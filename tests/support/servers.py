"""Launch itself as a real server process (uvicorn serving config.asgi) on loopback.

For tests that need what only a separate process shows: counters shared between
processes, a client that disconnects from a real socket. The server uses the test
settings and the test session's database (so the test must commit its rows:
`@pytest.mark.django_db(transaction=True)`)::

    with LaunchServer(extra_env={"CACHE_URL": "redis://127.0.0.1:6379/11"}) as server:
        requests.get(server.url + "/api/v1/utils/health-check/")
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from django.conf import settings

from tests.support.celery_worker import _database_url

ROOT = Path(__file__).resolve().parent.parent.parent
# Ports the test servers may use (another session's servers use other ranges).
PORTS = range(18200, 18300)


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


class LaunchServer:
    def __init__(self, *, extra_env: dict[str, str] | None = None) -> None:
        self.extra_env = extra_env or {}
        self.port = 0
        self.log_path = Path(tempfile.mkstemp(prefix="launch-asgi-", suffix=".log")[1])
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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

    def start(self, timeout: float = 60) -> LaunchServer:
        self.port = free_port()
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "uvicorn", "config.asgi:application",
                "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log",
            ],
            cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{self.log()}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the server did not start listening:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)

    def __enter__(self) -> LaunchServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
