"""Issue 12: the shipped server against gunicorn sync and the upstream baseline, chat
streams under load, and database connections under sustained load.

    .venv/bin/python bench/serving.py [--parts api streams soak] [--servers ...]
        [--rounds 3] [--seconds 10] [--soak-seconds 150] [--no-report]

Needs `wrk` (apt-get install wrk) and requirements/bench.txt. Everything runs on
loopback ports 18300-18399 against the `launch_bench` database on the embedded server
(or BENCH_DATABASE_URL), seeded once and reused:

- 10,000 users; `owner@bench.io` owns 10,000 items; `shared@bench.io` owns none and sees
  50 of them through shares; `big@bench.io` owns 100,000 items (the "lists cost the
  page" case); `root@bench.io` is a superuser. Every user but root is a `member`.

Parts:

- `api`: requests/s, p50 and p99 (wrk, 8 connections, one wrk thread) of each server on
  each endpoint, rounds interleaving endpoints and servers; medians over rounds. Before
  timing, the upstream baseline's JSON is checked against Launch's (same rows, same
  fields; the items list's `count` aside).
- `streams`: 50 chat answers streamed at once (SSE) from a slow OpenAI-compatible model
  (tests/support/llm_server.py in its own process, 0.25 s between words), while wrk
  measures `/users/me`; against the same wrk run without streams. Also counts the
  database connections held while the streams are open.
- `soak`: `/users/me` and the owner's items list under load for `--soak-seconds`,
  sampling pg_stat_activity: connections stay bounded, no errors.

Servers (`--servers`): `shipped` is `docker/entrypoint.sh serve` (what `make serve` and
the Docker image run), `sync` gunicorn's sync workers, `asgi` the previous shipped
command (gunicorn + uvicorn workers), `granian` granian's WSGI server, `upstream` the
FastAPI baseline (bench/upstream_app.py) under uvicorn. Each has 2 worker processes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    PYTHON,
    WrkResult,
    bench_database_url,
    median_result,
    wrk,
)

PASSWORD = "bench-password-123"
SECRET_KEY = "bench-insecure-key-0123456789abcdefghijklmnopqrstuvwxyz"
USERS = 10_000
OWNED, SHARED, BIG = 10_000, 50, 100_000
EMAILS = {
    "root": "root@bench.io",
    "owner": "owner@bench.io",
    "shared": "shared@bench.io",
    "big": "big@bench.io",
}
VENV_BIN = str(Path(PYTHON).parent)
PORTS = {"shipped": 18301, "sync": 18302, "asgi": 18303, "granian": 18304, "upstream": 18305}
WORKERS = 2
CONNECTIONS = 8


# --- the data set (in a child process: Django reads DATABASE_URL once) ----------------


def seed() -> None:
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command
    from django.db import connection, transaction

    from apps.items.models import Item
    from apps.rbac.services import roles_ensure_defaults
    from apps.users.models import User
    from launch.permissions import _permission_ids

    call_command("migrate", verbosity=0)
    if (
        User.objects.filter(email__endswith="@bench.io").count() == USERS
        and Item.objects.count() == OWNED + BIG
        and User.objects.filter(email=EMAILS["big"]).exists()
    ):
        print("reusing the seeded database", flush=True)
        return
    print("seeding", flush=True)
    now = datetime.now(UTC)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("TRUNCATE users_user, auth_group CASCADE")
        member = next(r for r in roles_ensure_defaults() if r.name == "member")
        hashed = make_password(PASSWORD)
        named = [
            User(email=EMAILS["root"], password=hashed, is_superuser=True, is_staff=True),
            *(
                User(email=EMAILS[k], full_name=k.title(), password=hashed)
                for k in EMAILS
                if k != "root"
            ),
        ]
        others = [
            User(email=f"user{i:05d}@bench.io", full_name=f"User {i}", password=hashed)
            for i in range(USERS - len(named))
        ]
        users = User.objects.bulk_create([*named, *others], batch_size=5000)
        through = User.groups.through
        through.objects.bulk_create(
            [through(user=u, group=member) for u in users if not u.is_superuser], batch_size=5000
        )
        by_email = {u.email: u for u in named}
        owners = [by_email[EMAILS["owner"]].pk] * OWNED + [by_email[EMAILS["big"]].pk] * BIG
        ids = [uuid.uuid4() for _ in owners]
        with cursor.cursor.copy(
            "COPY items_item (id, created_at, updated_at, title, description, owner_id) FROM STDIN"
        ) as copy:
            for i, (pk, owner) in enumerate(zip(ids, owners, strict=True)):
                at = now - timedelta(seconds=i * 7)
                copy.write_row((pk, at, at, f"Item {i}", "A thing", owner))
        actions = [p.pk for p in _permission_ids(Item, ["view", "change", "delete", "share"])]
        cursor.execute(
            "INSERT INTO items_itemuserobjectpermission (user_id, permission_id, "
            "content_object_id, owner_grant) SELECT i.owner_id, p, i.id, true "
            "FROM items_item i, unnest(%s::int[]) p",
            [actions],
        )
        view = _permission_ids(Item, ["view"]).get().pk
        shared = by_email[EMAILS["shared"]].pk
        # Every 200th of the owner's items: spread over the 10,000, not the newest 50.
        cursor.execute(
            "INSERT INTO items_itemuserobjectpermission (user_id, permission_id, "
            "content_object_id) SELECT %s, %s, id FROM unnest(%s::uuid[]) id",
            [shared, view, ids[: OWNED : OWNED // SHARED]],
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"{USERS:,} users, {OWNED + BIG:,} items", flush=True)


# --- servers ---------------------------------------------------------------------------


def launch_env(database_url: str, **extra: str) -> dict[str, str]:
    """Production settings as `make serve` sets them, on plain HTTP loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "GUNICORN_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        DATABASE_URL=database_url,
        SECRET_KEY=SECRET_KEY,
        DEBUG="false",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="false",
        ACCESS_TOKEN_EXPIRE_MINUTES="240",
        PYTHONPATH=str(ROOT),
        PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}",
        WEB_CONCURRENCY=str(WORKERS),
        REDIS_URL="",
        # As deployed: a cache every process shares (check --deploy refuses a private
        # one), which also keeps permission sets between requests (RIGHTS_CACHE).
        CACHE_URL=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/13"),
    )
    env.pop("LOG_LEVEL", None)  # as shipped: INFO, one JSON line per request
    env.update(extra)
    return env


@dataclass
class Server:
    name: str
    cmd: list[str]
    env: dict[str, str]
    port: int
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def command(self) -> str:
        shown = {"DB_POOL", "DB_CONN_MAX_AGE", "WEB_THREADS"}
        prefix = " ".join(f"{k}={v}" for k, v in sorted(self.env.items()) if k in shown)
        cmd = " ".join(self.cmd).replace(PYTHON, "python").replace(str(ROOT) + "/", "")
        return f"{prefix} {cmd}".strip()

    def start(self) -> None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise SystemExit(f"port {self.port} is taken ({self.name})")
        self.proc = subprocess.Popen(
            self.cmd,
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        import httpx

        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}")
            with contextlib.suppress(httpx.TransportError):
                httpx.get(self.url + "/api/v1/users/me", timeout=2)
                return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.name} did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        out = subprocess.run(
            ["pgrep", "-P", str(self.proc.pid)], check=False, capture_output=True, text=True
        ).stdout
        return [int(pid) for pid in out.split()]


def make_server(name: str, database_url: str, **extra: str) -> Server:
    port = PORTS[name]
    bind = f"127.0.0.1:{port}"
    gunicorn = [PYTHON, "-m", "gunicorn", "--bind", bind, "--workers", str(WORKERS)]
    if name == "shipped":
        env = launch_env(database_url, HOST="127.0.0.1", PORT=str(port), **extra)
        return Server(name, ["sh", "docker/entrypoint.sh", "serve"], env, port)
    if name == "sync":
        # gunicorn's defaults with the production settings: persistent connections
        # (DB_CONN_MAX_AGE=60) and their per-request health check.
        cmd = [*gunicorn, "--worker-class", "sync", "config.wsgi:application"]
        return Server(name, cmd, launch_env(database_url, **extra), port)
    if name == "asgi":
        # The previous shipped command. DB_CONN_MAX_AGE=0: with the default 60 every
        # request's thread kept its own connection and the server ran out of them.
        cmd = [
            *gunicorn, "--worker-class", "uvicorn_worker.UvicornWorker", "config.asgi:application"
        ]  # fmt: skip
        env = launch_env(database_url, DB_CONN_MAX_AGE="0", **extra)
        return Server(name, cmd, env, port)
    if name == "granian":
        cmd = [
            f"{VENV_BIN}/granian", "--interface", "wsgi", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(WORKERS), "--blocking-threads", "64",
            "--no-ws", "config.wsgi:application",
        ]  # fmt: skip
        return Server(name, cmd, launch_env(database_url, DB_POOL="on", **extra), port)
    if name == "upstream":
        cmd = [
            PYTHON, "-m", "uvicorn", "bench.upstream_app:app", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(WORKERS),
        ]  # fmt: skip
        env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY}
        # An inherited PYTHONPATH is kept after the project (e.g. requirements/bench.txt
        # installed with `pip install --target DIR` beside a venv one may not change).
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        return Server(name, cmd, env, port)
    raise SystemExit(f"unknown server {name}")


@contextlib.contextmanager
def running(servers: list[Server]) -> Iterator[list[Server]]:
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


# --- clients ---------------------------------------------------------------------------


def login(base: str, who: str) -> dict[str, str]:
    import httpx

    answer = httpx.post(
        f"{base}/api/v1/login/access-token",
        data={"username": EMAILS[who], "password": PASSWORD},
        timeout=30,
    )
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    who: str
    upstream: bool = True  # the baseline has this case


def cases(item_id: str) -> list[Case]:
    return [
        Case("GET /users/me", "/api/v1/users/me", "owner"),
        Case("GET /users/?limit=50 (superuser)", "/api/v1/users/?limit=50", "root"),
        Case("GET /items/?limit=50, owner of 10,000", "/api/v1/items/?limit=50", "owner"),
        Case(
            "GET /items/?limit=50, sees 50 of 10,000 through shares",
            "/api/v1/items/?limit=50",
            "shared",
            upstream=False,
        ),
        Case("GET /items/?limit=50, sees 100,000", "/api/v1/items/?limit=50", "big"),
        Case("GET /items/{id} (owner)", f"/api/v1/items/{item_id}", "owner"),
    ]


def _normal(value: Any) -> Any:
    """JSON with datetimes compared as instants (`Z` and `+00:00` are one time)."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)", value):
        return datetime.fromisoformat(value)
    return value


def check_same_json(launch: Server, upstream: Server, all_cases: list[Case], tokens: Any) -> None:
    import httpx

    for case in all_cases:
        if not case.upstream:
            continue
        ours = httpx.get(launch.url + case.path, headers=tokens[case.who], timeout=30)
        theirs = httpx.get(upstream.url + case.path, headers=tokens[case.who], timeout=30)
        a, b = _normal(ours.raise_for_status().json()), _normal(theirs.raise_for_status().json())
        if isinstance(a, dict) and "data" in a and case.path.startswith("/api/v1/items/?"):
            if b["count"] != len(b["data"]):
                raise RuntimeError(f"{case.name}: the baseline's count is not the page length")
            a, b = a["data"], b["data"]
        if a != b:
            raise RuntimeError(f"{case.name}: the baseline answers other JSON\n{a}\n{b}")


def loadavg() -> float:
    return os.getloadavg()[0]


# --- part: api -------------------------------------------------------------------------


@dataclass
class Measured:
    runs: list[WrkResult] = field(default_factory=list)
    load: list[float] = field(default_factory=list)


def part_api(args: argparse.Namespace, url: str) -> str:
    servers = [make_server(name, url) for name in args.servers]
    with running(servers):
        launch = next(s for s in servers if s.name != "upstream")
        tokens = {who: login(launch.url, who) for who in EMAILS}
        import httpx

        page = httpx.get(launch.url + "/api/v1/items/?limit=1", headers=tokens["owner"]).json()
        all_cases = cases(page["data"][0]["id"])
        upstream = next((s for s in servers if s.name == "upstream"), None)
        if upstream:
            check_same_json(launch, upstream, all_cases, tokens)
        results = {(c.name, s.name): Measured() for c in all_cases for s in servers}
        # A 10 s timeout, not wrk's 2 s: on a loaded machine a slow answer is a slow
        # answer, not an error.
        run = {"seconds": args.seconds, "connections": CONNECTIONS, "timeout": 10}
        for server in servers:  # warm up every worker's imports, caches and connections
            for case in all_cases:
                if case.upstream or server.name != "upstream":
                    wrk(server.url + case.path, headers=tokens[case.who], seconds=2,
                        connections=CONNECTIONS, allow_errors=True)  # fmt: skip
        for round_ in range(1, args.rounds + 1):
            for case in all_cases:
                for server in servers:
                    if server.name == "upstream" and not case.upstream:
                        continue
                    result = wrk(server.url + case.path, headers=tokens[case.who], **run,
                                 allow_errors=True)  # fmt: skip
                    measured = results[case.name, server.name]
                    measured.runs.append(result)
                    measured.load.append(loadavg())
                    print(
                        f"round {round_} {server.name:9} {case.name:55} {result.rps:8.1f} rps "
                        f"p50 {result.p50_ms:6.1f} p99 {result.p99_ms:6.1f} ms "
                        f"errors {result.errors} load {loadavg():.2f}",
                        flush=True,
                    )
    return api_report(args, servers, all_cases, results)


def api_report(
    args: argparse.Namespace,
    servers: list[Server],
    all_cases: list[Case],
    results: dict[tuple[str, str], Measured],
) -> str:
    names = [s.name for s in servers]
    head = " | ".join(f"{n} rps (p99 ms)" for n in names)
    ratios = [n for n in ("sync", "upstream", "asgi", "granian") if n in names and n != "shipped"]
    lines = [
        f"| endpoint | {head} | "
        + " | ".join(f"shipped / {n}" for n in ratios if "shipped" in names)
        + " |",
        "|---|" + "---:|" * len(names) + "---:|" * (len(ratios) if "shipped" in names else 0),
    ]
    loads: list[float] = []
    errors = 0
    for case in all_cases:
        cells, rps = [], {}
        for name in names:
            measured = results[case.name, name]
            if not measured.runs:
                cells.append("n/a")
                continue
            median = median_result(measured.runs)
            rps[name] = median.rps
            loads += measured.load
            errors += sum(r.errors for r in measured.runs)
            cells.append(f"{median.rps:,.0f} ({median.p99_ms:.0f})")
        ratio_cells = []
        if "shipped" in names:
            for name in ratios:
                ratio_cells.append(f"{rps['shipped'] / rps[name]:.2f}x" if rps.get(name) else "n/a")
        lines.append(f"| {case.name} | " + " | ".join(cells + ratio_cells) + " |")
    lines += [
        "",
        f"Load average (1 min) during the timed runs: median {statistics.median(loads):.2f}, "
        f"max {max(loads):.2f}. Errors (non-2xx or socket) in all timed runs: {errors}.",
        "",
        "Server commands (2 worker processes each; Launch with production settings, "
        "`config.settings.base`, DEBUG off, plain HTTP on loopback):",
        "",
        *(f"- {s.name}: `{s.command}`" for s in servers),
    ]
    return "\n".join(lines)


# --- part: streams ---------------------------------------------------------------------


def start_llm(delay: float, words: int) -> tuple[subprocess.Popen[str], str]:
    """The loopback OpenAI-compatible server in a process of its own (so its 50 handler
    threads do not share a GIL with the clients); returns it and its /v1 URL."""
    code = (
        "import sys, time\n"
        "from tests.support.llm_server import LLMServer\n"
        f"server = LLMServer(chat_reply='word ' * {words}, stream_delay={delay}).start()\n"
        "print(server.url, flush=True)\n"
        "sys.stdin.read()\n"
        "server.stop()\n"
    )
    proc = subprocess.Popen(
        [PYTHON, "-c", code],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def db_connections(url: str) -> dict[str, int]:
    """Connections to the bench database by state (this sampler's own excluded)."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres"))) as conn:
        rows = conn.execute(
            "SELECT coalesce(state, 'none'), count(*) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid() GROUP BY 1",
            [name],
        ).fetchall()
    return dict(rows)


class Sampler:
    """pg_stat_activity every `every` seconds in a thread, while in a `with` block."""

    def __init__(self, url: str, every: float = 1.0) -> None:
        self.url, self.every = url, every
        self.samples: list[dict[str, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(db_connections(self.url))

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def max(self, state: str | None = None) -> int:
        values = [sum(s.values()) if state is None else s.get(state, 0) for s in self.samples]
        return max(values, default=0)


async def open_streams(
    base: str, headers: dict[str, str], conversations: list[str], started: asyncio.Event
) -> list[dict[str, Any]]:
    import httpx

    opened = 0

    async def one(client: httpx.AsyncClient, conversation: str) -> dict[str, Any]:
        nonlocal opened
        begin = time.monotonic()
        first = None
        events: list[str] = []
        path = f"/api/v1/chat/conversations/{conversation}/messages/stream"
        async with client.stream("POST", path, json={"content": "Tell me."}) as answer:
            if answer.status_code != 200:
                await answer.aread()
                return {"status": answer.status_code, "events": [], "first": None, "total": 0}
            async for line in answer.aiter_lines():
                if line.startswith("event: "):
                    if first is None:
                        first = time.monotonic() - begin
                        opened += 1
                        if opened == len(conversations):
                            started.set()
                    events.append(line[7:])
        return {"status": 200, "events": events, "first": first, "total": time.monotonic() - begin}

    limits = httpx.Limits(max_connections=len(conversations) + 5)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=120, limits=limits
    ) as client:
        return await asyncio.gather(*(one(client, c) for c in conversations))


async def streams_with_load(
    base: str,
    headers: dict[str, str],
    conversations: list[str],
    database_url: str,
    run: dict[str, Any],
) -> tuple[list[dict[str, Any]], WrkResult | None, Sampler]:
    """Open the streams; once all have sent their first event, wrk `/users/me` while
    sampling the database's connections; then wait for every stream to end."""
    started = asyncio.Event()
    task = asyncio.create_task(open_streams(base, headers, conversations, started))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(started.wait(), timeout=30)
    loaded = None
    with Sampler(database_url, every=0.5) as sampler:
        if started.is_set():
            loaded = await asyncio.to_thread(
                wrk, base + "/api/v1/users/me", headers=headers, **run, allow_errors=True
            )
    return await task, loaded, sampler


def part_streams(args: argparse.Namespace, url: str) -> str:
    import httpx

    llm, llm_url = start_llm(args.stream_delay, args.stream_words)
    extra = {
        "LLM_PROVIDER": "openai",
        "LLM_BASE_URL": llm_url,
        "LLM_MODEL": "bench-model",
        "LLM_TIMEOUT": "30",
    }
    names = [n for n in args.servers if n not in ("upstream", "sync")]
    rows = []
    try:
        for name in names:
            server = make_server(name, url, **extra)
            with running([server]):
                headers = login(server.url, "owner")
                conversations = [
                    httpx.post(
                        server.url + "/api/v1/chat/conversations",
                        json={"title": "bench", "use_documents": False},
                        headers=headers,
                        timeout=30,
                    )
                    .raise_for_status()
                    .json()["id"]
                    for _ in range(args.streams)
                ]
                me = server.url + "/api/v1/users/me"
                run = {"seconds": args.stream_wrk_seconds, "connections": CONNECTIONS}
                wrk(me, headers=headers, seconds=2, connections=CONNECTIONS)
                quiet = wrk(me, headers=headers, **run)
                quiet_load = loadavg()

                streams, loaded, sampler = asyncio.run(
                    streams_with_load(server.url, headers, conversations, url, run)
                )
                busy_load = loadavg()
            complete = sum(1 for s in streams if s["events"] and s["events"][-1] == "done")
            firsts = [s["first"] for s in streams if s["first"] is not None]
            totals = [s["total"] for s in streams if s["status"] == 200]
            rows.append(
                f"| {name} | {quiet.rps:,.0f} / {quiet.p99_ms:.0f} | "
                + (
                    f"{loaded.rps:,.0f} / {loaded.p99_ms:.0f} | {loaded.errors} | "
                    if loaded
                    else "streams did not all open in 30 s | - | "
                )
                + f"{complete} / {args.streams} | "
                + (f"{max(firsts):.2f} | " if firsts else "- | ")
                + (f"{statistics.median(totals):.1f} | " if totals else "- | ")
                + f"{sampler.max()} ({sampler.max('active')} active) | "
                + f"{quiet_load:.2f} / {busy_load:.2f} |"
            )
            print(rows[-1], flush=True)
    finally:
        assert llm.stdin is not None
        llm.stdin.close()
        llm.wait(timeout=30)
    servers = [make_server(n, url, **extra) for n in names]
    return "\n".join(
        [
            f"{args.streams} chat answers streamed at once from the loopback model server "
            f"({args.stream_words} words, {args.stream_delay} s between words), each in a "
            "conversation of its own, while wrk measures `GET /users/me` "
            f"({CONNECTIONS} connections, {args.stream_wrk_seconds} s) once all streams have "
            "sent their first event; the same wrk run without streams just before. "
            "Database connections: the most seen in pg_stat_activity (sampled every 0.5 s) "
            "while the streams were open, all states, `/users/me` load included.",
            "",
            "| server | `/users/me` rps / p99 ms, no streams | with the streams open | "
            "errors | streams ending in `done` | slowest first event s | median stream s "
            "| DB connections, max | load avg before / after |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            *rows,
            "",
            "gunicorn's sync workers are not measured here: a sync worker is held by one "
            "stream for its whole length, so 2 workers serve 2 streams and nothing else.",
            "",
            *(f"- {s.name}: `{s.command}`" for s in servers),
        ]
    )


# --- part: soak ------------------------------------------------------------------------


def part_soak(args: argparse.Namespace, url: str) -> str:
    server = make_server("shipped", url)
    with running([server]):
        owner = login(server.url, "owner")
        paths = ["/api/v1/users/me", "/api/v1/items/?limit=50"]
        results: list[WrkResult] = []
        run = {
            "headers": owner,
            "seconds": args.soak_seconds,
            "connections": CONNECTIONS // 2,
            "allow_errors": True,
            "timeout": 10,
        }
        with Sampler(url, every=2.0) as sampler:
            threads = [
                threading.Thread(target=lambda p=p: results.append(wrk(server.url + p, **run)))
                for p in paths
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            load = loadavg()
    totals = [sum(s.values()) for s in sampler.samples]
    pool = server.env.get("DB_POOL_MAX_SIZE", "8")
    return "\n".join(
        [
            f"`/users/me` and the owner's `/items/?limit=50` at once for {args.soak_seconds} s "
            f"({CONNECTIONS // 2} connections each) against the shipped server, "
            f"`{server.command}`; pg_stat_activity for the bench database every 2 s.",
            "",
            "| requests | requests/s | errors (non-2xx or socket) | DB connections min / "
            "median / max | bound (workers x DB_POOL_MAX_SIZE) | load avg at the end |",
            "|---:|---:|---:|---:|---:|---:|",
            f"| {sum(round(r.rps * args.soak_seconds) for r in results):,} "
            f"| {sum(r.rps for r in results):,.0f} | {sum(r.errors for r in results)} "
            f"| {min(totals)} / {statistics.median(totals):.0f} / {max(totals)} "
            f"| {WORKERS} x {pool} = {WORKERS * int(pool)} | {load:.2f} |",
        ]
    )


# --- the driver ------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--parts", nargs="+", default=["api", "streams", "soak"])
    parser.add_argument("--servers", nargs="+", default=["shipped", "sync", "upstream"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--stream-delay", type=float, default=0.25)
    parser.add_argument("--stream-words", type=int, default=80)
    parser.add_argument("--stream-wrk-seconds", type=int, default=8)
    parser.add_argument("--soak-seconds", type=int, default=150)
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.seed:
        seed()
        return
    url = bench_database_url("launch_bench")
    subprocess.run([PYTHON, __file__, "--seed"], env=launch_env(url), cwd=ROOT, check=True)
    sections: list[tuple[str, str]] = []
    command = " ".join([".venv/bin/python bench/serving.py", *sys.argv[1:]])
    if "api" in args.parts:
        sections.append(("API", part_api(args, url)))
    if "streams" in args.parts:
        sections.append(("Chat streams under load", part_streams(args, url)))
    if "soak" in args.parts:
        sections.append(("Database connections under sustained load", part_soak(args, url)))
    text = f"Command: `{command}`\n\n" + "\n\n".join(
        f"### {title}\n\n{body}" for title, body in sections
    )
    print("\n" + text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
