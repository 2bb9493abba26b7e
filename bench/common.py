"""Shared plumbing for the HTTP benchmarks: a throwaway database, gunicorn on loopback,
wrk as the load generator in its own process, and the report in docs/benchmarks.md.

Benchmarks never run in the test suite. Each prints a markdown table and replaces its own
section of docs/benchmarks.md, with the command that reproduces it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "docs" / "benchmarks.md"
PYTHON = sys.executable


def bench_database_url(name: str) -> str:
    """A database of its own on the embedded server (or BENCH_DATABASE_URL), so the
    development data is never touched."""
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    sys.path.insert(0, str(ROOT))
    from launch import embedded_db

    url = embedded_db.database_url()
    server = embedded_db._server()
    server.psql(
        f"SELECT 'CREATE DATABASE {name}' "
        f"WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}')\\gexec\n"
    )
    return url.replace(f"/{embedded_db.DATABASE_NAME}?", f"/{name}?")


def bench_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=database_url,
        SECRET_KEY="bench-insecure-key-0123456789abcdefghijklmnopqrstuvwxyz",
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Gunicorn:
    """The production server, on loopback, for the duration of a `with` block."""

    def __init__(self, env: dict[str, str], workers: int = 2, worker_class: str = "sync") -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = "config.asgi:application" if "uvicorn" in worker_class else "config.wsgi:application"
        self.cmd = [
            PYTHON, "-m", "gunicorn", app,
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(workers),
            "--worker-class", worker_class,
            "--log-level", "warning",
        ]  # fmt: skip
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Gunicorn:
        self.proc = subprocess.Popen(self.cmd, env=self.env, cwd=ROOT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.2)
        self.__exit__()
        raise RuntimeError("gunicorn did not start")

    def __exit__(self, *exc: object) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    # Non-2xx answers plus socket errors (connect, read, write, timeout); 0 unless the
    # caller allowed errors.
    errors: int = 0


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text.strip())
    if not match:
        raise ValueError(text)
    return float(match.group(1)) * _UNITS[match.group(2)]


def wrk(
    url: str,
    *,
    headers: dict[str, str],
    seconds: float,
    connections: int,
    allow_errors: bool = False,
    timeout: float = 2,
) -> WrkResult:
    if not shutil.which("wrk"):
        raise SystemExit("wrk is required: apt-get install wrk (or brew install wrk)")
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout}s", "--latency"]
    for key, value in headers.items():
        cmd += ["-H", f"{key}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out and not allow_errors:
        raise RuntimeError(f"non-2xx answers from {url}:\n{out}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    errors += sum(int(n) for n in socket.groups()) if socket else 0
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # The latency distribution's lines; absent when no request completed in the run.
    p50 = re.search(r"^\s+50%\s+([\d.]+\w+)\s*$", out, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+\w+)\s*$", out, re.M)
    if p50 is None or p99 is None:
        return WrkResult(rps, float("inf"), float("inf"), errors)
    return WrkResult(rps, _ms(p50.group(1)), _ms(p99.group(1)), errors)


def median_result(results: list[WrkResult]) -> WrkResult:
    return WrkResult(
        statistics.median(r.rps for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
    )


def write_section(title: str, body: str) -> None:
    """Replace `## title` in docs/benchmarks.md (or append it), leaving other sections."""
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    text = REPORT.read_text() if REPORT.exists() else "# Benchmarks\n"
    section = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + section
    REPORT.write_text(text)
