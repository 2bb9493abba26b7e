"""Requests/s and latency of Launch's user endpoints against a bare Django baseline.

    .venv/bin/python bench/api.py [--users 10000] [--seconds 10] [--rounds 3]

Needs `wrk` (apt-get install wrk). Runs gunicorn (2 sync workers, production settings)
on loopback against a `bench_api` database on the embedded server (or
BENCH_DATABASE_URL), with wrk in another process. Each endpoint is measured `--rounds`
times, interleaved with its baseline, and the medians are reported.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Gunicorn, WrkResult, bench_database_url, bench_env, median_result, wrk  # noqa: E402

PASSWORD = "bench-password-123"


# Measured once in-process (cProfile, 10,000 users, 2026-11-28); kept with the report.
NOTES = (
    "Where the list's time goes, per request: the page with its roles subquery 0.9 ms, "
    "the true `count(*)` 0.5 ms, the token's user 0.3 ms, DRF (authentication, permission, "
    "pagination, serializer) about 1 ms. A first baseline that answered five columns "
    "without roles made the list look like 0.45x. The user load per request stays on "
    "purpose: deactivation and password changes refuse access tokens at once."
)


def seed(users: int) -> None:
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.core.management import call_command

    from apps.users.models import User

    call_command("migrate", verbosity=0)
    if not User.objects.filter(email="root@bench.io").exists():
        User.objects.create_superuser(email="root@bench.io", password=PASSWORD)
    missing = users - User.objects.count()
    if missing > 0:
        hashed = make_password(PASSWORD)
        start = User.objects.count()
        User.objects.bulk_create(
            [
                User(email=f"user{start + i:07d}@bench.io", full_name=f"User {i}", password=hashed)
                for i in range(missing)
            ],
            batch_size=5000,
        )


def login(base: str) -> str:
    import httpx

    answer = httpx.post(
        f"{base}/api/v1/login/access-token",
        data={"username": "root@bench.io", "password": PASSWORD},
        timeout=30,
    )
    answer.raise_for_status()
    return str(answer.json()["access_token"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args()

    env = bench_env(bench_database_url("bench_api"), ACCESS_TOKEN_EXPIRE_MINUTES="120")
    os.environ.update(env)
    seed(args.users)

    cases = {
        "GET /users/me": ("/api/v1/users/me", "/bench/me"),
        "GET /users/?limit=50": ("/api/v1/users/?limit=50", "/bench/users?limit=50"),
    }
    results: dict[str, dict[str, list[WrkResult]]] = {
        name: {"launch": [], "baseline": []} for name in cases
    }
    with Gunicorn(env, workers=2) as server:
        headers = {"Authorization": f"Bearer {login(server.url)}"}
        for path, base_path in cases.values():  # warm up both workers' connections
            wrk(server.url + path, headers=headers, seconds=2, connections=args.connections)
            wrk(server.url + base_path, headers={}, seconds=2, connections=args.connections)
        for _ in range(args.rounds):
            for name, (path, base_path) in cases.items():
                run = {"seconds": args.seconds, "connections": args.connections}
                results[name]["launch"].append(wrk(server.url + path, headers=headers, **run))
                results[name]["baseline"].append(wrk(server.url + base_path, headers={}, **run))

    lines = [
        "| endpoint | Launch rps | baseline rps | ratio "
        "| Launch p50 / p99 ms | baseline p50 / p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, runs in results.items():
        ours, base = median_result(runs["launch"]), median_result(runs["baseline"])
        lines.append(
            f"| {name} | {ours.rps:,.0f} | {base.rps:,.0f} | {ours.rps / base.rps:.2f}x | "
            f"{ours.p50_ms:.1f} / {ours.p99_ms:.1f} | {base.p50_ms:.1f} / {base.p99_ms:.1f} |"
        )
    table = "\n".join(lines)
    print(table)
    if not args.no_report:
        from bench.common import write_section

        write_section(
            "API: users (issue 2)",
            "Command: `.venv/bin/python bench/api.py "
            f"--users {args.users} --seconds {args.seconds} --rounds {args.rounds}`\n\n"
            f"gunicorn, 2 sync workers, production settings, {args.users:,} users, wrk with "
            f"{args.connections} connections on loopback, medians of {args.rounds} interleaved "
            "rounds. Baseline: a bare Django view answering the same JSON (the same fields, "
            "roles included, from the same SQL) with `.values()` and orjson, no DRF and no "
            "authentication, in the same server and run.\n\n" + table + "\n\n" + NOTES,
        )


if __name__ == "__main__":
    main()
