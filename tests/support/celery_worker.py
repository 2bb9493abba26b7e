"""A real Celery worker process for end-to-end tests.

The worker runs `celery -A config worker` with the test settings, the test database and
the test session's broker folder, so a task enqueued by the code under test (on commit)
is consumed by a separate process exactly as in production. Tests that use it must let
their transactions commit (`@pytest.mark.django_db(transaction=True)`).
"""

from __future__ import annotations

import os
import sys

from tests.support.processes import Process, shared_infrastructure


class CeleryWorker:
    def __init__(self, concurrency: int = 1, extra_env: dict[str, str] | None = None) -> None:
        self.concurrency = concurrency
        self.extra_env = extra_env or {}  # read at launch: tests may add to it before
        self.process = Process("worker", [], {})
        self.log_path = self.process.log_path

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            **shared_infrastructure(),
            **self.extra_env,
        }

    def start(self, timeout: float = 60) -> CeleryWorker:
        return self.launch().wait_ready(timeout)

    def launch(self) -> CeleryWorker:
        """Start the process without waiting for it (`wait_ready` does), so a caller can
        start other processes meanwhile."""
        self.process.command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--loglevel=INFO", f"--concurrency={self.concurrency}",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "--hostname", f"e2e-{os.getpid()}@%h",
        ]  # fmt: skip
        self.process.env = self.env()
        self.process.launch()
        return self

    def wait_ready(self, timeout: float = 60) -> CeleryWorker:
        self.process.wait_ready(lambda: b" ready." in self.process.launched_log(), timeout)
        return self

    def log(self) -> str:
        return self.process.log()

    def kill(self) -> None:
        """SIGKILL the worker and its pool: what an OOM kill or a lost machine does."""
        self.process.kill()

    def stop(self) -> None:
        self.process.stop()
