"""Shared plumbing for the vector store benchmarks: a throwaway database, synthetic
data, timing and the docs/benchmarks.md writer.

Each benchmark runs against the embedded PostgreSQL (or DATABASE_URL's server) in a
database of its own, `bench_vectors`, created and migrated at the start and dropped at
the end (`--keep` keeps it for a re-run), so the development database is untouched.
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BENCH_DB = os.environ.get("BENCH_DB", "bench_vectors")
DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Vector store"


def _server_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    from launch.embedded_db import database_url

    return database_url()


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def setup_django(*, fresh: bool) -> None:
    """Point Django at `bench_vectors` (created if missing, recreated if `fresh`), migrate."""
    import psycopg

    server = _server_url()
    with psycopg.connect(_with_db(server, "postgres"), autocommit=True) as admin:
        exists = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]
        ).fetchone()
        if exists and fresh:
            admin.execute(f"DROP DATABASE {BENCH_DB} WITH (FORCE)")
            exists = None
        if not exists:
            admin.execute(f"CREATE DATABASE {BENCH_DB}")
    os.environ["DATABASE_URL"] = _with_db(server, BENCH_DB)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django
    from django.core.management import call_command

    django.setup()
    from launch.db import use_background_statement_timeout

    use_background_statement_timeout()  # loading and indexing a million rows takes minutes
    call_command("migrate", verbosity=0)


def drop_database() -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    url = os.environ["DATABASE_URL"]
    with psycopg.connect(_with_db(url, "postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def latencies(
    run: Callable[[Any], Any], inputs: list[Any], warmup: int = 10
) -> tuple[float, float]:
    """(median, p95) in milliseconds of `run(x)` over `inputs`, one client."""
    for item in inputs[:warmup]:
        run(item)
    timings = []
    for item in inputs:
        start = time.perf_counter()
        run(item)
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings), percentile(timings, 0.95)


@contextmanager
def timer() -> Iterator[Callable[[], float]]:
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def table(headers: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def environment() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), "
            "(SELECT extversion FROM pg_extension WHERE extname = 'vector'), "
            "current_setting('shared_buffers')"
        )
        version, pgvector, shared_buffers = cursor.fetchone()
    return (
        f"PostgreSQL {version}, pgvector {pgvector}, shared_buffers {shared_buffers}, "
        f"{os.cpu_count()} CPUs; the database server was shared with other work while "
        "measuring, so treat figures as orientation, not a lab result."
    )


def write_section(key: str, body: str) -> None:
    """Replace (or append) this benchmark's block inside the "## Vector store" section."""
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    if SECTION not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n"
    start, end = f"<!-- bench:{key} -->", f"<!-- /bench:{key} -->"
    block = f"{start}\n{body.strip()}\n{end}"
    if start in text:
        text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        head, _, tail = text.partition(SECTION)
        # Insert at the end of the section: before the next "## " heading, if any.
        match = re.search(r"\n## ", tail)
        cut = match.start() if match else len(tail)
        text = head + SECTION + tail[:cut].rstrip("\n") + f"\n\n{block}\n" + tail[cut:]
    DOCS.parent.mkdir(exist_ok=True)
    DOCS.write_text(text.rstrip("\n") + "\n")
