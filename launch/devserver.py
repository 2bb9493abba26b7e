"""`make run`: one command that brings up the whole local stack and tears it down.

Starts the embedded PostgreSQL (unless DATABASE_URL is set), applies migrations, runs
`bootstrap`, then supervises three processes: Django's auto-reloading development server,
a Celery worker and Celery beat. Ctrl-C, SIGTERM (to this process or its whole process
group, as a terminal or a process manager sends it) or any child dying stops all of them,
their own children and the embedded database it started, quietly. A second `make run`
reuses the data under `.data/`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from launch import embedded_db

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# settings.TASK_QUEUE_NAMES, without importing the settings into this supervisor.
QUEUES = ("default", "ingestion", "answers", "maintenance")
# Seconds the children get to stop after SIGTERM before they are killed.
STOP_TIMEOUT = 15


def _shown(path: Path) -> str:
    """`path` relative to the checkout when it is inside it (LAUNCH_DATA_DIR may not be)."""
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _banner(port: str) -> str:
    secret = embedded_db.DATA_DIR / "first_superuser.txt"
    who = os.environ.get("FIRST_SUPERUSER", "admin@example.com")
    if os.environ.get("FIRST_SUPERUSER_PASSWORD"):
        credentials = f"{who} / the FIRST_SUPERUSER_PASSWORD from your environment"
    else:
        credentials = f"{who} / the password in {_shown(secret)}"
    base = f"http://127.0.0.1:{port}"
    front_end = os.environ.get("FRONTEND_URL") or "http://localhost:5173"
    return "\n".join(
        [
            "",
            "Launch is running. Ctrl-C stops everything.",
            f"  API        {base}/api/v1/",
            f"  API docs   {base}/docs  (ReDoc: {base}/redoc)",
            f"  Admin      {base}/admin/",
            f"  Superuser  {credentials}",
            # localhost, not 127.0.0.1: the same site as the front end, so cookies travel.
            f"  Front end  {front_end} is trusted; its API URL: http://localhost:{port}",
            "",
        ]
    )


class _Stop(Exception):
    pass


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signum)


class Stack:
    """What `make run` started, so that it can all be stopped, whenever the stop comes:
    the embedded database (when this run started it), the children and theirs, and the
    metrics folder."""

    def __init__(self) -> None:
        self.env = dict(os.environ)
        self.env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        self.port = self.env.get("PORT", "8000")
        self.started_db = False
        self.metrics_dir: str | None = None
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        # The children's own children, seen while they ran: a child stopped by a group
        # signal no longer leads to them.
        self.descendants: dict[int, psutil.Process] = {}

    def start(self) -> None:
        if not self.env.get("DATABASE_URL"):
            # A server someone else started (another checkout's tests, a shell) stays up.
            self.started_db = not embedded_db.is_running()
            self.env["DATABASE_URL"] = embedded_db.database_url()
            print(f"Embedded PostgreSQL with pgvector: {_shown(embedded_db.PGDATA)}")
        broker = "Redis at REDIS_URL" if self.env.get("REDIS_URL") else "filesystem broker"
        print(f"Celery: {broker}")
        # One Prometheus folder for the web server and the worker: /metrics shows both.
        if not self.env.get("PROMETHEUS_MULTIPROC_DIR"):
            self.metrics_dir = tempfile.mkdtemp(prefix="launch-metrics-")
            self.env["PROMETHEUS_MULTIPROC_DIR"] = self.metrics_dir

        manage = [PYTHON, "manage.py"]
        subprocess.run([*manage, "migrate", "--no-input"], env=self.env, check=True)
        subprocess.run([*manage, "bootstrap"], env=self.env, check=True)
        celery = [PYTHON, "-m", "celery", "-A", "config"]
        commands = {
            "web": [*manage, "runserver", f"127.0.0.1:{self.port}"],
            # One worker for every queue here; a deployment runs one per queue (docs/deploy.md).
            "worker": [
                *celery, "worker", "-Q", ",".join(QUEUES), "--loglevel=INFO", "--concurrency=2"
            ],
            "beat": [*celery, "beat", "--loglevel=INFO"],
        }  # fmt: skip
        for name, command in commands.items():
            # Each child in a process group of its own: a terminal's Ctrl-C or a group
            # SIGTERM reaches this supervisor alone, which stops each child in order, so
            # Celery's main process stops its pool instead of the pool being killed
            # under it.
            self.children[name] = subprocess.Popen(command, env=self.env, process_group=0)
        print(_banner(self.port), flush=True)

    def _note_descendants(self) -> None:
        for child in self.children.values():
            with contextlib.suppress(psutil.Error):
                for process in psutil.Process(child.pid).children(recursive=True):
                    self.descendants.setdefault(process.pid, process)

    def supervise(self) -> int:
        """Until a child exits (then its exit code) or a signal arrives (_Stop)."""
        while True:
            for name, child in self.children.items():
                code = child.poll()
                if code is not None:
                    print(f"{name} exited with {code}; stopping the rest.", file=sys.stderr)
                    return code or 1
            self._note_descendants()
            time.sleep(1)

    def stop(self) -> None:
        """SIGTERM to every child (a process group's SIGTERM may have reached them
        already), then to what they started (the reloader's server, Celery's pool),
        SIGKILL for what is left after STOP_TIMEOUT; then the database and the folder."""
        self._note_descendants()
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        # Process objects check their start time: a reused pid is never signalled.
        alive = [process for process in self.descendants.values() if process.is_running()]
        _, left = psutil.wait_procs(alive, timeout=max(0.1, deadline - time.monotonic()))
        for process in left:
            with contextlib.suppress(psutil.Error):
                process.kill()
        if self.started_db:
            embedded_db.stop()
        if self.metrics_dir:
            shutil.rmtree(self.metrics_dir, ignore_errors=True)


def main() -> int:
    # Ctrl-C in a terminal signals the whole process group, as a process manager's
    # SIGTERM does; SIGTERM or SIGINT to this process alone (a script that started
    # `make run` in the background, where SIGINT starts out ignored) must stop
    # everything too. A signal may come at any moment, start-up included.
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    os.chdir(ROOT)
    stack = Stack()
    try:
        stack.start()
        return stack.supervise()
    except _Stop:
        print("\nStopping...", flush=True)
        return 0
    except subprocess.CalledProcessError as error:  # migrate or bootstrap failed: it said why
        return error.returncode or 1
    finally:
        # Stopping takes a moment; a second Ctrl-C or SIGTERM must not cut it short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()


if __name__ == "__main__":
    raise SystemExit(main())
