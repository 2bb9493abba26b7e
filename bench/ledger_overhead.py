"""Issue 14: what the usage ledger adds to the p50 of a chat message and of a search.

    .venv/bin/python bench/ledger_overhead.py [--rounds 8] [--requests 25] [--out FILE]

Two copies of the shipped server (`docker/entrypoint.sh serve`, what `make serve` and the
Docker image run: gunicorn with docker/gunicorn.conf.py, 2 workers), identical but for
`USAGE_LEDGER_ENABLED` (true: every model call writes its ModelCall row; false: calls
are measured and written nowhere), on loopback ports 18311/18312, against the
`launch_bench_ledger` database on the embedded server (or BENCH_DATABASE_URL), seeded by
`seed_demo` (Alice, a project with two processed documents).

The chat model is the OpenAI-compatible loopback server (tests/support/llm_server.py) in
its own process; embeddings are the default offline `hashing` provider. A chat message
(POST /chat/conversations/{id}/messages, retrieval on) books two rows (the query
embedding and the answer); a search (POST /search) books one.

One client, one request at a time (the p50 of a request, not a throughput): each round
sends `--requests` chat messages (each server to a new conversation of its own) and then
`--requests` searches, every request to one server and right after to the other (which
goes first alternates), so the pairs share the machine's load of the moment. The figure
is the median over rounds of each round's p50, and the ratio on/off.
Prints a markdown report (with the load average and both server commands). `--write
inline` measures the ledger writing each row in the request (USAGE_LEDGER_DEFERRED=false)
instead of the shipped deferred writer; `--aa` runs the ledger in both servers, to see
the noise floor of the ratio on this machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import PYTHON, bench_database_url  # noqa: E402
from bench.serving import Server, launch_env, loadavg, running, start_llm  # noqa: E402

DATABASE = "launch_bench_ledger"
EMAIL, PASSWORD = "alice@demo.example.com", "bench-password-123"
PORTS = {"on": 18311, "off": 18312}
QUESTION = "How does the control room show failed tasks and the usage of the models?"
SEARCH = "control room usage"
CASES = ("chat message", "search")


def seed(url: str) -> None:
    """Migrate and seed (idempotent), and give Alice a known password."""
    code = (
        "import django; django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "call_command('seed_demo', verbosity=0)\n"
        "from apps.users.models import User\n"
        f"u = User.objects.get(email={EMAIL!r}); u.set_password({PASSWORD!r}); u.save()\n"
    )
    env = launch_env(url, CACHE_URL="locmemcache://")
    subprocess.run([PYTHON, "-c", code], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)


def server(name: str, url: str, llm_url: str, write: str, aa: bool = False) -> Server:
    port = PORTS[name]
    env = launch_env(
        url,
        HOST="127.0.0.1",
        PORT=str(port),
        USAGE_LEDGER_ENABLED="true" if name == "on" or aa else "false",
        USAGE_LEDGER_DEFERRED="true" if write == "deferred" else "false",
        LLM_PROVIDER="openai",
        LLM_BASE_URL=llm_url,
        LLM_MODEL="bench-model",
        LLM_TIMEOUT="30",
        USAGE_PRICES='{"bench-model": {"input": "0.00015", "output": "0.0006"}}',
        # One client at a time never comes near a real rate; the bench sends hundreds.
        THROTTLE_CHAT_RATE="100000/min",
        THROTTLE_SEARCH_RATE="100000/min",
        # Its own Redis database: 13 is serving.py's cache, 14 queues.py's broker (flushed).
        CACHE_URL=os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/12"),
    )
    return Server(f"ledger {name}", ["sh", "docker/entrypoint.sh", "serve"], env, port)


def login(base: str) -> dict[str, str]:
    answer = httpx.post(
        f"{base}/api/v1/login/access-token",
        data={"username": EMAIL, "password": PASSWORD},
        timeout=30,
    )
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def conversation(client: httpx.Client, base: str, headers: dict[str, str], project: str) -> str:
    answer = client.post(
        f"{base}/api/v1/chat/conversations",
        json={"title": "bench", "use_documents": True, "project_id": project},
        headers=headers,
    )
    return str(answer.raise_for_status().json()["id"])


def timed(client: httpx.Client, url: str, body: dict[str, Any], headers: dict[str, str]) -> float:
    started = time.perf_counter()
    client.post(url, json=body, headers=headers).raise_for_status()
    return (time.perf_counter() - started) * 1000


def paired_round(
    client: httpx.Client,
    servers: list[Server],
    headers: dict[str, dict[str, str]],
    project: str,
    n: int,
) -> dict[tuple[str, str], list[float]]:
    """`n` chat messages (each server to a new conversation), then `n` searches, each
    request sent to one server and at once to the other (pairs under the same load);
    latencies in ms by (server, case)."""
    out: dict[tuple[str, str], list[float]] = {(s.name, c): [] for s in servers for c in CASES}
    chats = {s.name: conversation(client, s.url, headers[s.name], project) for s in servers}
    for i in range(n):
        for s in servers if i % 2 else servers[::-1]:
            url = f"{s.url}/api/v1/chat/conversations/{chats[s.name]}/messages"
            out[s.name, "chat message"].append(
                timed(client, url, {"content": QUESTION}, headers[s.name])
            )
    for i in range(n):
        for s in servers if i % 2 else servers[::-1]:
            body = {"query": SEARCH, "project_ids": [project]}
            out[s.name, "search"].append(
                timed(client, f"{s.url}/api/v1/search", body, headers[s.name])
            )
    return out


def ledger_rows(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM usage_modelcall").fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--requests", type=int, default=25, help="per case, round and server")
    parser.add_argument("--out", type=Path, help="also write the report here")
    parser.add_argument(
        "--write",
        choices=["deferred", "inline"],
        default="deferred",
        help="USAGE_LEDGER_DEFERRED of the ledger-on server (default: deferred, as shipped)",
    )
    parser.add_argument(
        "--aa",
        action="store_true",
        help="the noise floor: the ledger on in both servers (the 'off' column too)",
    )
    args = parser.parse_args()
    url = bench_database_url(DATABASE)
    print("seeding", flush=True)
    seed(url)
    llm, llm_url = start_llm(0.0, 40)
    servers = [server(name, url, llm_url, args.write, args.aa) for name in ("on", "off")]
    p50s: dict[tuple[str, str], list[float]] = {(s, c): [] for s in PORTS for c in CASES}
    loads: list[float] = []
    rows_before = ledger_rows(url)
    try:
        with running(servers), httpx.Client(timeout=60) as client:
            headers = {s.name: login(s.url) for s in servers}
            project = (
                client.get(servers[0].url + "/api/v1/projects", headers=headers["ledger on"])
                .raise_for_status()
                .json()["data"][0]["id"]
            )
            # Warm every worker's imports, connections and caches.
            paired_round(client, servers, headers, project, 10)
            time.sleep(1)  # the deferred writer's last batch of the warm-up
            booked_from = ledger_rows(url)
            for round_ in range(1, args.rounds + 1):
                latencies = paired_round(client, servers, headers, project, args.requests)
                for (name, case), values in latencies.items():
                    p50s[name.split()[-1], case].append(statistics.median(values))
                loads.append(loadavg())
                print(
                    f"round {round_}: "
                    + ", ".join(
                        f"{case} on {p50s['on', case][-1]:.1f} / off {p50s['off', case][-1]:.1f} ms"
                        for case in CASES
                    )
                    + f", load {loads[-1]:.2f}",
                    flush=True,
                )
            time.sleep(1)  # the deferred writer's last batch
            booked = ledger_rows(url) - booked_from
    finally:
        assert llm.stdin is not None
        llm.stdin.close()
        llm.wait(timeout=30)
    # 2 rows per message, 1 per search, from one server (two with --aa)
    expected = args.rounds * args.requests * 3 * (2 if args.aa else 1)
    command = " ".join(["python", *sys.argv]).replace(str(ROOT) + "/", "")
    aa = "A/A run (the ledger on in both servers): the noise floor. " if args.aa else ""
    lines = [
        f"`{command}`, {aa}{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, "
        "load average "
        f"{min(loads):.2f}-{max(loads):.2f} (1 min) during the rounds. "
        f"{args.rounds} rounds x {args.requests} requests per case and server, one client, "
        "each request sent to both servers in turn; the median of the rounds' p50s.",
        "",
        "| request | ledger on p50 (ms) | ledger off p50 (ms) | on / off |",
        "|---|---|---|---|",
    ]
    for case in CASES:
        on = statistics.median(p50s["on", case])
        off = statistics.median(p50s["off", case])
        lines.append(f"| {case} | {on:.1f} | {off:.1f} | {on / off:.3f} |")
    lines += [
        "",
        f"Rows booked during the rounds: {booked} (expected {expected}: two per chat "
        "message, one per search, by the ledger-on server"
        + (" and, in this A/A run, the other" if args.aa else "")
        + f"). Rows before the run: {rows_before}.",
        "",
        "Server commands (both): " + "; ".join(f"`{s.command}` ({s.name})" for s in servers),
        f"with `USAGE_LEDGER_ENABLED=true|false` (ledger writes: {args.write}), "
        "`LLM_PROVIDER=openai` against the loopback "
        "model server, chat and search throttles raised.",
    ]
    report = "\n".join(lines)
    print(report)
    if args.out:
        args.out.write_text(report + "\n")


if __name__ == "__main__":
    main()
