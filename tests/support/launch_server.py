"""The real Launch web server in its own process, as `make run` starts it.

Same command (`manage.py runserver`, without the file watcher) and the same settings
module (`config.settings.local`, so DEBUG and every local default), in an environment
that holds none of the test session's settings: only the infrastructure it must share
with the test (the test database, the session's broker folder and media root) and what
the caller passes (e.g. `FRONTEND_URL`).
"""

from __future__ import annotations

import os
import sys

from django.conf import settings

from tests.support.processes import Process, answers_health_check, shared_infrastructure

# What a shell passes to `make run` that is not a Launch setting.
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "VIRTUAL_ENV")


class LaunchServer:
    def __init__(self, port: int, extra_env: dict[str, str] | None = None) -> None:
        self.port = port
        self.extra_env = extra_env or {}
        command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
        self.process = Process("server", command, {})
        self.log_path = self.process.log_path

    @property
    def url(self) -> str:
        """The API as a front end configured with `VITE_API_URL=http://localhost:8000`
        calls it: by name, not by address."""
        return f"http://localhost:{self.port}"

    def env(self) -> dict[str, str]:
        env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
        env.update(DJANGO_SETTINGS_MODULE="config.settings.local", **shared_infrastructure())
        if settings.REDIS_URL:  # the test session's broker, whichever it is
            env["REDIS_URL"] = settings.REDIS_URL
        env.update(self.extra_env)
        return env

    def healthy(self) -> bool:
        return answers_health_check(self.port)

    def start(self, timeout: float = 60) -> LaunchServer:
        self.process.env = self.env()
        self.process.launch().wait_ready(self.healthy, timeout)
        return self

    def log(self) -> str:
        return self.process.log()

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
        self.process.stop()
