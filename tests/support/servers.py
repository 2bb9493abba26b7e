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
import socket
import sys
from types import TracebackType

from tests.support.processes import Process, answers_health_check, shared_infrastructure


class LaunchServer:
    def __init__(self, *, extra_env: dict[str, str] | None = None) -> None:
        self.extra_env = extra_env or {}
        self.port = 0
        self.process = Process("asgi", [], {})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            **shared_infrastructure(),
            **self.extra_env,
        }

    def healthy(self) -> bool:
        return answers_health_check(self.port)

    def start(self, timeout: float = 60) -> LaunchServer:
        # The test binds the socket and hands it to uvicorn (`--fd`): no window between
        # choosing a free port and binding it in which another suite's server could take
        # the port and answer this test's requests (seen: 401s from a foreign database).
        listener = socket.create_server(("127.0.0.1", 0))
        self.port = listener.getsockname()[1]
        self.process.command = [
            sys.executable, "-m", "uvicorn", "config.asgi:application",
            "--fd", str(listener.fileno()), "--no-access-log",
        ]  # fmt: skip
        self.process.pass_fds = (listener.fileno(),)
        self.process.env = self.env()
        try:
            self.process.launch()
        finally:
            listener.close()  # the server holds its own copy now
        self.process.wait_ready(self.healthy, timeout)
        return self

    def log(self) -> str:
        return self.process.log()

    def stop(self) -> None:
        self.process.stop()

    def __enter__(self) -> LaunchServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
