"""`make run`: one command that brings up the whole local stack and tears it down.

Starts the embedded PostgreSQL (unless DATABASE_URL is set), applies migrations, runs
`bootstrap`, then supervises three processes: Django's auto-reloading development server,
a Celery worker and Celery beat. Ctrl-C (or any child dying) stops all of them and the
embedded database it started. A second `make run` reuses the data under `.data/`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from launch import embedded_db

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# settings.TASK_QUEUE_NAMES, without importing the settings into this supervisor.
QUEUES = ("default", "ingestion", "answers", "maintenance")


def _banner(port: str) -> str:
    secret = embedded_db.DATA_DIR / "first_superuser.txt"
    who = os.environ.get("FIRST_SUPERUSER", "admin@example.com")
    if os.environ.get("FIRST_SUPERUSER_PASSWORD"):
        credentials = f"{who} / the FIRST_SUPERUSER_PASSWORD from your environment"
    else:
        credentials = f"{who} / the password in {secret.relative_to(ROOT)}"
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


def main() -> int:
    # Ctrl-C in a terminal signals the whole process group; SIGTERM (or SIGINT sent to this
    # process alone, e.g. from a script that started `make run` in the background, where
    # SIGINT starts out ignored) must stop everything too.
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    os.chdir(ROOT)
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    env.setdefault("PYTHONUNBUFFERED", "1")
    port = env.get("PORT", "8000")
    started_db = False
    if not env.get("DATABASE_URL"):
        # A server someone else started (another checkout's tests, a shell) stays up.
        started_db = not embedded_db.is_running()
        env["DATABASE_URL"] = embedded_db.database_url()
        print(f"Embedded PostgreSQL with pgvector: {embedded_db.PGDATA.relative_to(ROOT)}")
    broker = "Redis at REDIS_URL" if env.get("REDIS_URL") else "filesystem broker in .data/broker"
    print(f"Celery: {broker}")

    manage = [PYTHON, "manage.py"]
    subprocess.run([*manage, "migrate", "--no-input"], env=env, check=True)
    subprocess.run([*manage, "bootstrap"], env=env, check=True)

    celery = [PYTHON, "-m", "celery", "-A", "config"]
    commands = {
        "web": [*manage, "runserver", f"127.0.0.1:{port}"],
        # One worker for every queue here; a deployment runs one per queue (docs/deploy.md).
        "worker": [*celery, "worker", "-Q", ",".join(QUEUES), "--loglevel=INFO", "--concurrency=2"],
        "beat": [*celery, "beat", "--loglevel=INFO"],
    }
    children = {name: subprocess.Popen(cmd, env=env) for name, cmd in commands.items()}
    print(_banner(port), flush=True)

    exit_code = 0
    try:
        while True:
            for name, child in children.items():
                code = child.poll()
                if code is not None:
                    print(f"{name} exited with {code}; stopping the rest.", file=sys.stderr)
                    raise SystemExit(code or 1)
            time.sleep(0.5)
    except _Stop:
        print("\nStopping...")
    except SystemExit as stop:
        exit_code = int(stop.code or 0)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
        if started_db:
            embedded_db.stop()
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
