"""Latency of the permission-filtered items list at 10,000 and 1,000,000 items, against
guardian's generic `get_objects_for_user` in the same run.

    .venv/bin/python bench/permissions_list.py [--sizes 10000 1000000] [--rounds 5] [--reuse]

Needs `wrk` (apt-get install wrk). Each size gets a database of its own on the embedded
server (`bench_permissions_<size>`), so both stay loaded: `--reuse` skips loading a size
whose database already holds it. Data: 1,000 users in 20 team roles own the items, each
with view/change/delete/share grants; every 10th item is shared (view) with another user,
every 50th with a team. The measured user owns 40 items, is shared 5 and its team 5, so
it sees 50 items at every size: only the table grows. guardian's generic tables get a
copy of exactly the same grants.

One gunicorn (2 sync workers, production settings) per size on loopback; rounds
interleave the sizes and the two endpoints. Latency: sequential requests from one
connection (httpx), median and p95 per round; throughput: wrk with 2 connections. The
report gives medians over rounds, and the EXPLAIN (ANALYZE, BUFFERS) of Launch's list
queries at the largest size.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    PYTHON,
    Gunicorn,
    bench_database_url,
    bench_env,
    write_section,
    wrk,
)

PASSWORD = "bench-password-123"
FOCUS_EMAIL = "focus@bench.io"
USERS, TEAMS = 1_000, 20
OWNED, SHARED_DIRECT, SHARED_VIA_ROLE = 40, 5, 5
CASES = {"launch": "/api/v1/items/?limit=50", "generic": "/bench/items?limit=50"}
SETUP = (
    "Data: 1,000 users in 20 team roles own the items, each item with view/change/delete/"
    "share grants for its owner; every 10th item is shared (view) with another user, every "
    "50th with a team. The measured user owns 40 items and is shared 5 directly and 5 "
    "through its own team, so it sees 50 items (count 50) at every size: only the tables "
    "grow. guardian's generic tables hold a copy of exactly the same grants. Each size has "
    "a database of its own; one gunicorn per size (2 sync workers, production settings, "
    "`bench.settings`) on loopback. Rounds interleave sizes and endpoints. Latency: "
    "sequential requests on one connection (httpx; 200 per round, or at least 10 when a round "
    "would exceed 10 s), median and p95 per round; throughput: wrk, 2 connections, 3 s. Figures "
    "are medians over rounds. The baseline is Launch's own items view (same JWT auth, "
    "permission class, pagination, serializer, ordering) with only the visibility filter "
    "replaced by `get_objects_for_user(user, 'items.view_item', qs, "
    "accept_global_perms=False, with_superuser=False)` on the generic tables. 2 CPUs, "
    "{server}, both shared with other work while measuring."
)
EXPLAIN_RUNS = 5
# wrk gives up on a request after 2 s; a slower endpoint gets no throughput figure.
WRK_MAX_MEDIAN_MS = 1000
LABELS = {
    "launch": "Launch: direct-FK grants, `pk IN (user UNION roles)`",
    "generic": "guardian generic `get_objects_for_user`",
}


# --- inside one size's database (a child process with that DATABASE_URL) -------------


@contextlib.contextmanager
def _step(name: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    print(f"  {name}: {time.monotonic() - started:.1f} s", flush=True)


def _copy(cursor: Any, table: str, columns: str, rows: Any) -> None:
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


BULK_TABLES = [
    "items_item",
    "items_itemuserobjectpermission",
    "items_itemgroupobjectpermission",
    "guardian_userobjectpermission",
    "guardian_groupobjectpermission",
]


@contextlib.contextmanager
def _indexes_deferred(cursor: Any, tables: list[str]) -> Iterator[None]:
    """Drop the tables' secondary indexes and unique constraints, and build them again
    after the bulk insert: one sorted build instead of millions of random btree inserts."""
    cursor.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = ANY(%s::regclass[]) AND contype = 'u'",
        [tables],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
        "WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid "
        "AND c.conrelid = i.indrelid)",
        [tables],
    )
    indexes = cursor.fetchall()
    for table, name, _ in constraints:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    yield
    with _step(f"{len(indexes)} indexes and {len(constraints)} unique constraints"):
        for _, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in constraints:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def _principals() -> tuple[list[Any], list[Any], Any, Any]:
    """1,000 users in the member role and one of 20 teams; the measured user in member
    and a team of its own. Returns (users, teams, focus user, focus team)."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from apps.rbac.services import roles_ensure_defaults
    from apps.users.models import User

    member = next(r for r in roles_ensure_defaults() if r.name == "member")
    teams = Group.objects.bulk_create([Group(name=f"team-{k:02d}") for k in range(TEAMS)])
    focus_team = Group.objects.create(name="team-focus")
    hashed = make_password(PASSWORD)
    users = User.objects.bulk_create(
        [User(email=f"user{k:04d}@bench.io", password=hashed) for k in range(USERS)]
    )
    focus = User.objects.create(email=FOCUS_EMAIL, password=hashed)
    through = User.groups.through
    through.objects.bulk_create(
        [through(user=u, group=member) for u in [*users, focus]]
        + [through(user=u, group=teams[k % TEAMS]) for k, u in enumerate(users)]
        + [through(user=focus, group=focus_team)]
    )
    return users, teams, focus, focus_team


def load(size: int, reuse: bool) -> None:
    """Fill this database with `size` items and their grants: COPY from Python for the
    items and shares, INSERT ... SELECT for the owners' grants and the generic copy."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection, transaction

    from apps.items.models import Item
    from apps.users.models import User
    from launch.permissions import _permission_ids

    call_command("migrate", verbosity=0)
    if reuse and Item.objects.count() == size and User.objects.filter(email=FOCUS_EMAIL).exists():
        print(f"{size:,} items: reusing the loaded database", flush=True)
        return
    print(f"loading {size:,} items", flush=True)
    rng = random.Random(size)
    now = datetime.now(UTC)
    view = _permission_ids(Item, ["view"]).get().pk
    actions = [p.pk for p in _permission_ids(Item, ["view", "change", "delete", "share"])]
    item_type = ContentType.objects.get_for_model(Item).pk
    with transaction.atomic(), connection.cursor() as cursor:
        # Rows are consistent by construction: skip the per-row foreign-key triggers.
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("TRUNCATE users_user, auth_group CASCADE")
        users, teams, focus, focus_team = _principals()
        owners = [focus.pk] * OWNED + [users[i % USERS].pk for i in range(size - OWNED)]
        ids = [uuid.uuid4() for _ in owners]
        picked = rng.sample(range(OWNED, size), SHARED_DIRECT + SHARED_VIA_ROLE)
        # Owner index plus 1..USERS-1: a share never goes back to the item's owner.
        user_shares = [
            (users[(i - OWNED + 1 + i % (USERS - 1)) % USERS].pk, view, ids[i])
            for i in range(OWNED, size, 10)
        ] + [(focus.pk, view, ids[i]) for i in picked[:SHARED_DIRECT]]
        role_shares = [
            (teams[(i // 50) % TEAMS].pk, view, ids[i]) for i in range(OWNED + 25, size, 50)
        ] + [(focus_team.pk, view, ids[i]) for i in picked[SHARED_DIRECT:]]
        raw = cursor.cursor  # psycopg's own cursor, for COPY
        with _indexes_deferred(cursor, BULK_TABLES):
            with _step("items (COPY)"):
                _copy(
                    raw,
                    "items_item",
                    "id, created_at, updated_at, title, description, owner_id",
                    (
                        (pk, at, at, f"Item {i}", "A thing", owner)
                        for i, (pk, owner) in enumerate(zip(ids, owners, strict=True))
                        for at in [now - timedelta(seconds=rng.uniform(0, 365 * 86400))]
                    ),
                )
            with _step("owner grants (INSERT ... SELECT)"):
                cursor.execute(
                    "INSERT INTO items_itemuserobjectpermission (user_id, permission_id, "
                    "content_object_id) SELECT i.owner_id, p, i.id FROM items_item i, "
                    "unnest(%s::int[]) p",
                    [actions],
                )
            with _step("shares (COPY)"):
                columns = "permission_id, content_object_id"
                _copy(raw, "items_itemuserobjectpermission", f"user_id, {columns}", user_shares)
                _copy(raw, "items_itemgroupobjectpermission", f"group_id, {columns}", role_shares)
            with _step("generic guardian copy (INSERT ... SELECT)"):
                for principal in ("user", "group"):
                    cursor.execute(
                        f"INSERT INTO guardian_{principal}objectpermission "
                        f"(object_pk, content_type_id, permission_id, {principal}_id) "
                        f"SELECT content_object_id::text, %s, permission_id, {principal}_id "
                        f"FROM items_item{principal}objectpermission",
                        [item_type],
                    )
    with _step("VACUUM ANALYZE"), connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    grants = len(owners) * len(actions) + len(user_shares) + len(role_shares)
    print(f"{size:,} items, {grants:,} grants (and as many generic ones)", flush=True)


def _outline(node: dict[str, Any], depth: int = 0) -> list[str]:
    name = node["Node Type"]
    if target := node.get("Index Name") or node.get("Relation Name"):
        name += f" on {target}"
    if "Subplan Name" in node:
        name += f" ({node['Subplan Name']})"
    rows = f"rows={node.get('Actual Rows', 0):g} loops={node.get('Actual Loops', 1)}"
    lines = [f"{'  ' * depth}{name}  [{rows}]"]
    for child in node.get("Plans", []):
        lines += _outline(child, depth + 1)
    return lines


def explain() -> None:
    """EXPLAIN (ANALYZE, BUFFERS) the count and page queries both list endpoints run, as
    captured from a request through the full Django stack, and their median execution
    time over EXPLAIN_RUNS runs; prints JSON to stdout."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework_simplejwt.tokens import AccessToken

    from apps.users.models import User

    token = AccessToken.for_user(User.objects.get(email=FOCUS_EMAIL))
    client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    plans: dict[str, dict[str, Any]] = {}
    for case, path in CASES.items():
        client.get(path)  # warm the cache, as the timed requests found it
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        for query in captured.captured_queries:
            sql = query["sql"]
            if 'FROM "items_item" ' not in sql:
                continue
            kind = "count" if sql.startswith("SELECT COUNT(*)") else "page"
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                text = "\n".join(row[0] for row in cursor.fetchall())
                trees = []
                for _ in range(EXPLAIN_RUNS):
                    cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql)
                    trees.append(cursor.fetchone()[0][0])
            plans.setdefault(case, {})[kind] = {
                "sql": sql,
                "text": text,
                "outline": _outline(trees[0]["Plan"]),
                "ms": statistics.median(tree["Execution Time"] for tree in trees),
            }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('server_version'), current_setting('shared_buffers')"
        )
        version, shared_buffers = cursor.fetchone()
    print(
        json.dumps(
            {"server": f"PostgreSQL {version}, shared_buffers {shared_buffers}", "plans": plans}
        )
    )


# --- the driver ----------------------------------------------------------------------


def child(size: int, url: str, *args: str, capture: bool = False) -> str:
    """Run this script inside one size's database (Django reads DATABASE_URL once)."""
    cmd = [PYTHON, __file__, "--size", str(size), *args]
    out = subprocess.PIPE if capture else None
    return subprocess.run(cmd, env=bench_env(url), check=True, stdout=out, text=True).stdout


def login(base: str) -> dict[str, str]:
    import httpx

    answer = httpx.post(
        f"{base}/api/v1/login/access-token",
        data={"username": FOCUS_EMAIL, "password": PASSWORD},
        timeout=30,
    )
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def check_same_page(client: Any, base: str) -> None:
    """Both endpoints must answer the same 50 items, and count 50, before timing them."""
    pages = [client.get(base + path).raise_for_status().json() for path in CASES.values()]
    ids = [[item["id"] for item in page["data"]] for page in pages]
    counts = [page["count"] for page in pages]
    expected = OWNED + SHARED_DIRECT + SHARED_VIA_ROLE
    if counts != [expected, expected] or ids[0] != ids[1]:
        raise RuntimeError(f"the endpoints disagree: counts {counts}")


def latencies(client: Any, url: str, requests: int, seconds: float) -> tuple[float, float]:
    """Median and p95 (ms) of sequential requests: `requests` of them, or fewer (at least
    10) when `seconds` run out first, so a slow baseline cannot stretch the run."""
    samples: list[float] = []
    deadline = time.monotonic() + seconds
    while len(samples) < requests and (len(samples) < 10 or time.monotonic() < deadline):
        started = time.perf_counter()
        client.get(url).raise_for_status()
        samples.append((time.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(samples, n=20, method="inclusive")[18]
    return statistics.median(samples), p95


def measure(args: argparse.Namespace, urls: dict[int, str]) -> dict[tuple[int, str], Any]:
    """Interleaved rounds over sizes and endpoints; medians over rounds of each round's
    median, p95 and wrk throughput (None when the endpoint is too slow for wrk)."""
    import httpx

    runs: dict[tuple[int, str], list[tuple[float, float, float | None]]] = {
        (size, case): [] for size in args.sizes for case in CASES
    }
    env = {size: bench_env(url, ACCESS_TOKEN_EXPIRE_MINUTES="120") for size, url in urls.items()}
    with contextlib.ExitStack() as stack:
        servers = {size: stack.enter_context(Gunicorn(env[size])) for size in args.sizes}
        headers = {size: login(server.url) for size, server in servers.items()}
        clients = {
            size: stack.enter_context(httpx.Client(headers=headers[size], timeout=60))
            for size in servers
        }
        for size, server in servers.items():
            check_same_page(clients[size], server.url)
            for path in CASES.values():  # warm caches and both workers' connections
                latencies(clients[size], server.url + path, 20, 0)
        for round_ in range(1, args.rounds + 1):
            for size, server in servers.items():
                for case, path in CASES.items():
                    url = server.url + path
                    median, p95 = latencies(clients[size], url, args.requests, args.seconds)
                    rps = None
                    if median < WRK_MAX_MEDIAN_MS:
                        run = {"seconds": args.wrk_seconds, "connections": 2}
                        rps = wrk(url, headers=headers[size], **run).rps
                    runs[size, case].append((median, p95, rps))
                    print(
                        f"round {round_} {size:>9,} {case:8} median {median:7.1f} ms  "
                        f"p95 {p95:7.1f} ms  {rps or 0:7.1f} req/s",
                        flush=True,
                    )
    results = {}
    for key, rounds in runs.items():
        throughputs = [r[2] for r in rounds if r[2] is not None]
        results[key] = [
            statistics.median(r[0] for r in rounds),
            statistics.median(r[1] for r in rounds),
            statistics.median(throughputs) if throughputs else None,
        ]
    return results


def report(
    sizes: list[int], results: dict[tuple[int, str], Any], plans: dict[int, dict[str, Any]]
) -> str:
    small, large = sizes[0], sizes[-1]
    sql_ms = {
        (size, case): sum(q["ms"] for q in plans[size][case].values())
        for size in sizes
        for case in CASES
    }
    lines = [
        "| items | endpoint | HTTP median ms | HTTP p95 ms | req/s (wrk, 2 conn.) "
        "| SQL ms (count + page) |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for (size, case), (median, p95, rps) in results.items():
        throughput = f"{rps:,.0f}" if rps is not None else "n/a (> 1 s)"
        lines.append(
            f"| {size:,} | {LABELS[case]} | {median:.1f} | {p95:.1f} | {throughput} "
            f"| {sql_ms[size, case]:.2f} |"
        )
    lines.append("")
    if small != large:
        for case in CASES:
            http = results[large, case][0] / results[small, case][0]
            p95 = results[large, case][1] / results[small, case][1]
            sql = sql_ms[large, case] / sql_ms[small, case]
            goal = " (goal <= 1.5x)" if case == "launch" else ""
            lines.append(
                f"- {LABELS[case]}, {large:,} / {small:,} items: HTTP median {http:.2f}x{goal}, "
                f"p95 {p95:.2f}x; SQL {sql:.2f}x."
            )
    for size in sizes:
        http = results[size, "generic"][0] / results[size, "launch"][0]
        sql = sql_ms[size, "generic"] / sql_ms[size, "launch"]
        lines.append(
            f"- Launch vs generic guardian at {size:,} items: {http:.1f}x faster over HTTP "
            f"(goal >= 3x), {sql:.0f}x in SQL."
        )
    lines += [
        "",
        "Both endpoints share everything but the filter (JWT, model permission, serializer, "
        "gunicorn), which costs far more than Launch's SQL under this machine's load; the "
        "SQL column isolates the filter. Given a queryset, guardian's generic path also "
        "restricts grants to `object_pk IN (SELECT id::text FROM items_item)` and ORs the "
        "user and role subqueries, so PostgreSQL scans `items_item` (plans below).",
        "",
        f"Plans at {large:,} items (EXPLAIN ANALYZE of the SQL the request ran, warm cache; "
        "`rows` are actual rows per loop):",
        "",
    ]
    for case, queries in plans[large].items():
        for kind, plan in queries.items():
            lines += [f"{LABELS[case]}, {kind} query, {plan['ms']:.2f} ms:", "", "```"]
            lines += [*plan["outline"], "```", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=200, help="per endpoint and round")
    parser.add_argument("--seconds", type=float, default=10, help="cap per endpoint and round")
    parser.add_argument("--wrk-seconds", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep a size already loaded")
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)  # child: this database
    parser.add_argument("--explain", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.size:
        import django

        django.setup()
        if args.explain:
            explain()
        else:
            load(args.size, args.reuse)
        return

    sizes = args.sizes = sorted(set(args.sizes))
    urls = {size: bench_database_url(f"bench_permissions_{size}") for size in sizes}
    if len(set(urls.values())) < len(urls):
        raise SystemExit("BENCH_DATABASE_URL names one database: pass a single --sizes value")
    for size, url in urls.items():
        child(size, url, *(["--reuse"] if args.reuse else []))
    results = measure(args, urls)
    explained = {
        size: json.loads(child(size, url, "--explain", capture=True)) for size, url in urls.items()
    }
    plans = {size: answer["plans"] for size, answer in explained.items()}
    for case, queries in plans[sizes[-1]].items():
        for kind, plan in queries.items():
            print(f"\n== {LABELS[case]}: {kind} query at {sizes[-1]:,} items\n{plan['sql']}\n")
            print(plan["text"])
    body = report(sizes, results, plans)
    print("\n" + body)
    if not args.no_report:
        command = " ".join(
            [".venv/bin/python bench/permissions_list.py", "--sizes", *map(str, sizes),
             "--rounds", str(args.rounds)]
        )  # fmt: skip
        write_section(
            "Permissions: items list (issue 3)",
            f"Command: `{command}`\n\n"
            f"{SETUP.format(server=explained[sizes[-1]]['server'])}\n\n{body}",
        )


if __name__ == "__main__":
    main()
