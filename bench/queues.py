"""Does a bulk import delay a chat title? Title latency while 500 documents are ingested.

    .venv/bin/python bench/queues.py [--documents 500] [--broker redis://127.0.0.1:6379/14]

Real Celery worker processes on a Redis broker (a database of its own, flushed), the
production settings, a `bench_queues` database on the embedded server (or
BENCH_DATABASE_URL), files on local disk. For each deployment shape:

- one queue: every task on one queue, one worker (concurrency 2): Launch before queues
  per kind of work;
- make run: the queues per kind of work, one worker consuming all of them
  (concurrency 2), as `make run` starts it;
- a worker per queue: ingestion (concurrency 2) and answers + maintenance + default
  (concurrency 1), as docker/compose.yml runs them.

Each shape first times 3 titles on idle workers, then uploads `--documents` small text
documents (2 chunks each, queued for processing as the API queues them) and, once they
are all queued, asks for a title every `--interval` seconds until the import is done:
latency is from the request (committed, task sent) until the title is in the database.
Each shape runs in a process of its own, so its producer routes as its workers do.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import PYTHON, bench_database_url, bench_env, write_section  # noqa: E402

ALL_QUEUES = "default,ingestion,answers,maintenance"
SHAPES: dict[str, dict[str, Any]] = {
    "one queue": {"one_queue": True, "workers": [("default", 2)]},
    "make run": {"one_queue": False, "workers": [(ALL_QUEUES, 2)]},
    "a worker per queue": {
        "one_queue": False,
        "workers": [("ingestion", 2), ("answers,maintenance,default", 1)],
    },
}
WORDS = [
    *("harbour", "lantern", "meadow", "quarry", "saddle", "timber", "violet", "walnut"),
    *("anchor", "beacon", "canyon", "delta", "ember", "falcon", "glacier", "hollow"),
    *("island", "juniper", "kettle", "lagoon", "marble", "nectar", "orchard", "pebble"),
    *("quartz", "ridge", "summit", "thistle", "umber", "valley", "willow", "zephyr"),
]


def _environment(broker: str, media: str, *, one_queue: bool) -> dict[str, str]:
    return bench_env(
        bench_database_url("bench_queues"),
        DJANGO_SETTINGS_MODULE="bench.queue_settings",
        BENCH_ONE_QUEUE="1" if one_queue else "0",
        REDIS_URL=broker,
        MEDIA_ROOT=media,
        EMBEDDING_PROVIDER="hashing",
        LLM_PROVIDER="extractive",
    )


def _document_text(rng: random.Random) -> bytes:
    paragraphs = [" ".join(rng.choices(WORDS, k=110)).capitalize() + "." for _ in range(2)]
    return "\n\n".join(paragraphs).encode()


class Workers:
    def __init__(self, env: dict[str, str], spec: list[tuple[str, int]]) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        self.env, self.spec = env, spec

    def __enter__(self) -> Workers:
        for index, (queues, concurrency) in enumerate(self.spec):
            log = Path(tempfile.mkstemp(prefix="bench-worker-", suffix=".log")[1])
            self.logs.append(log)
            command = [
                PYTHON, "-m", "celery", "-A", "config", "worker", "-Q", queues,
                f"--concurrency={concurrency}", "--loglevel=WARNING", f"--hostname=bench{index}@%h",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
            ]  # fmt: skip
            with log.open("ab") as out:
                self.procs.append(
                    subprocess.Popen(
                        command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
                    )
                )
        from config.celery import app

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            replies = app.control.ping(timeout=1.0) or []
            if len(replies) >= len(self.spec):
                return self
        raise RuntimeError("workers did not answer: " + " ".join(p.read_text() for p in self.logs))

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(timeout=60)
        for log in self.logs:
            log.unlink(missing_ok=True)


def run_shape(name: str, documents: int, interval: float) -> dict[str, Any]:
    """One deployment shape, in this (child) process; returns its figures."""
    import django

    django.setup()
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    from apps.chat.models import ChatConversation, ChatMessage
    from apps.chat.services import conversation_request_title
    from apps.projects.models import Document, Project
    from apps.projects.services import document_upload, project_create, project_delete
    from apps.users.models import User

    call_command("migrate", verbosity=0)
    user = User.objects.filter(email="bench@queues.io").first() or User.objects.create_user(
        email="bench@queues.io", password="bench-queues-password"
    )
    for stale in Project.objects.filter(owner=user):
        project_delete(project=stale)

    def conversation() -> ChatConversation:
        chat = ChatConversation.objects.create(user=user, title="New chat")
        ChatMessage.objects.create(conversation=chat, role="user", content="How do tides work?")
        ChatMessage.objects.create(conversation=chat, role="assistant", content="The moon.")
        return chat

    def title_seconds() -> float:
        chat = conversation()
        started = time.perf_counter()
        conversation_request_title(conversation=chat)
        titled = ChatConversation.objects.filter(pk=chat.pk, auto_generated_title=True)
        while not titled.exists():
            time.sleep(0.005)
        return time.perf_counter() - started

    shape = SHAPES[name]
    from config.celery import app

    with app.connection_for_write() as connection:
        connection.default_channel.client.flushdb()  # a broker database of its own
    with Workers(dict(os.environ), shape["workers"]):
        idle = [title_seconds() for _ in range(3)]
        project = project_create(user=user, name=f"Import ({name})")
        rng = random.Random(17)
        started = time.perf_counter()
        for index in range(documents):
            document_upload(
                user=user,
                project=project,
                upload=ContentFile(_document_text(rng), name=f"doc-{index:04d}.txt"),
                filename=f"doc-{index:04d}.txt",
            )
        queued = time.perf_counter() - started
        unfinished = Document.objects.filter(project=project, status__in=["pending", "processing"])
        during = []
        while True:
            left = unfinished.count()
            if not left:
                break
            during.append((left, title_seconds()))
            time.sleep(interval)
        imported = time.perf_counter() - started
        failed = Document.objects.filter(project=project, status="failed").count()
        project_delete(project=project)
    return {
        "shape": name,
        "idle": idle,
        "during": during,
        "queued_s": queued,
        "import_s": imported,
        "failed": failed,
        "documents": documents,
    }


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=500)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--shape", choices=list(SHAPES), action="append")
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(run_shape(args.child, args.documents, args.interval)))
        return

    results = []
    with tempfile.TemporaryDirectory(prefix="bench-queues-media-") as media:
        for name in args.shape or list(SHAPES):
            env = _environment(args.broker, media, one_queue=SHAPES[name]["one_queue"])
            command = [PYTHON, str(Path(__file__)), "--child", name]
            command += ["--documents", str(args.documents), "--interval", str(args.interval)]
            print(f"{name}: importing {args.documents} documents ...", flush=True)
            out = subprocess.run(
                command, cwd=ROOT, env=env, capture_output=True, text=True, check=False
            )
            if out.returncode != 0:
                raise SystemExit(out.stdout + out.stderr)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))

    lines = [
        "| deployment | title, idle workers (median ms) | titles during the import | "
        "title during the import: first / median / max ms | import: s (documents/s) |",
        "|---|---:|---:|---:|---:|",
    ]
    for result in results:
        during = [seconds for _, seconds in result["during"]]
        first, median, worst = during[0], statistics.median(during), max(during)
        rate = result["documents"] / result["import_s"]
        lines.append(
            f"| {result['shape']} | {_ms(statistics.median(result['idle']))} | {len(during)} | "
            f"{_ms(first)} / {_ms(median)} / {_ms(worst)} | "
            f"{result['import_s']:.0f} ({rate:.1f}/s) |"
        )
        if result["failed"]:
            lines.append(f"| ({result['failed']} documents failed) | | | | |")
    table = "\n".join(lines)
    print(table)
    if not args.no_report:
        shapes = ", ".join(args.shape or SHAPES)
        write_section(
            "Queues: a chat title during a bulk import (issue 17)",
            f"Command: `.venv/bin/python bench/queues.py --documents {args.documents}`"
            f" (shapes: {shapes})\n\n"
            "Real Celery workers on Redis, production settings, hashing embeddings, the "
            "extractive chat model (a title costs a few milliseconds of work, so its latency "
            "is the wait). Latency is from the committed request until the title is in the "
            f"database. The first title is asked right after the {args.documents} uploads "
            f"are queued, then one every {args.interval:g} s until the import finishes.\n\n"
            + table,
        )


if __name__ == "__main__":
    main()
