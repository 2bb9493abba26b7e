"""Ingestion benchmark: chunks/s through embed + upsert into the live store.

    DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python bench/ingest.py --chunks 100000

Same synthetic ~1,000-character chunks for every path, all in one run, HNSW, GIN and
b-tree indexes live throughout:

- single stream: the embedding provider (hashing by default) on a batch, then
  `services.upsert` of it, batch after batch, from an empty table to `--chunks` rows
  (what one Celery worker does). Reported over the whole load and over its last
  `--tail` chunks, i.e. at the final index size;
- baseline: `VectorRecord.objects.create` per row (autocommit, as a naive loop would)
  on `--baseline` rows, right after the load, so at the same index size as the tail;
- pipelined single stream: `--tail` more chunks, the next batch embedding in a thread
  while the current one is upserted (the provider is Python, the index insert is the
  server's CPU, so they overlap on two cores);
- two streams: two processes, each embedding and upserting its own documents, `--tail`
  chunks between them (the Celery worker runs with concurrency 2);
- ceiling: binary COPY of the same rows into an unindexed temporary table.
"""

# ruff: noqa: E501  (markdown and SQL templates read better unwrapped)
from __future__ import annotations

import argparse
import random
import uuid
from typing import Any

from _vector_bench import drop_database, environment, setup_django, table, timer, write_section

WORDS = [
    "invoice",
    "contract",
    "delivery",
    "payment",
    "schedule",
    "warranty",
    "customer",
    "supplier",
    "report",
    "quarter",
    "revenue",
    "margin",
    "forecast",
    "budget",
    "audit",
    "policy",
    "compliance",
    "security",
    "incident",
    "response",
    "server",
    "database",
    "latency",
    "throughput",
    "cluster",
    "backup",
    "restore",
    "migration",
    "schema",
    "index",
    "query",
    "vector",
    "embedding",
    "model",
    "training",
    "evaluation",
    "dataset",
    "label",
    "annotation",
    "review",
    "approval",
    "deadline",
    "project",
    "milestone",
    "roadmap",
    "release",
    "feature",
    "defect",
    "regression",
    "test",
    "coverage",
    "deployment",
]


def chunk_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        words: list[str] = []
        length = 0
        while length < 1000:
            word = (
                rng.choice(WORDS)
                if rng.random() < 0.8
                else f"{rng.choice(WORDS)}{rng.randint(1, 999)}"
            )
            words.append(word)
            length += len(word) + 1
        texts.append(" ".join(words)[:1000])
    return texts


def records(
    texts: list[str], vectors: list[Any], model: str, start: int, scope: uuid.UUID
) -> list[Any]:
    from launch.vector_store.services import RecordIn

    return [
        RecordIn(
            source_type="users.user",
            source_id=uuid.UUID(int=(1 << 64) + (start + i) // 50),
            scope_id=scope,
            chunk_index=(start + i) % 50,
            content=text,
            embedding=vector,
            embedding_model=model,
        )
        for i, (text, vector) in enumerate(zip(texts, vectors, strict=True))
    ]


def ingest(
    start: int, count: int, batch: int, scopes: list[uuid.UUID], *, pipelined: bool = False
) -> tuple[float, float, list[float]]:
    """Embed + upsert chunks [start, start + count). Returns the seconds spent embedding
    (waiting for embeddings, when pipelined), upserting, and the wall time per batch."""
    from concurrent.futures import ThreadPoolExecutor

    from launch.ai.embeddings import get_embedding_provider
    from launch.vector_store.services import upsert

    provider = get_embedding_provider()
    starts = list(range(start, start + count, batch))

    def embed(first: int) -> tuple[list[str], list[Any]]:
        texts = chunk_texts(min(batch, start + count - first), seed=1000 + first)
        return texts, provider.embed_documents(texts)

    embed_total = upsert_total = 0.0
    per_batch: list[float] = []
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(embed, starts[0]) if pipelined else None
        for i, first in enumerate(starts):
            with timer() as embed_time:
                if pending is not None:
                    texts, vectors = pending.result()
                    if i + 1 < len(starts):
                        pending = pool.submit(embed, starts[i + 1])
                else:
                    texts, vectors = embed(first)
            with timer() as upsert_time:
                scope = scopes[(first // batch) % len(scopes)]
                upsert(records(texts, vectors, provider.model_name, first, scope))
            embed_total += embed_time()
            upsert_total += upsert_time()
            per_batch.append(embed_time() + upsert_time())
            if not pipelined and i % 10 == 0:
                print(
                    f"  {first + len(texts) - start} chunks, embed {embed_total:.0f} s, "
                    f"upsert {upsert_total:.0f} s",
                    flush=True,
                )
    return embed_total, upsert_total, per_batch


def _stream(job: tuple[int, int, int, list[uuid.UUID]]) -> float:
    start, count, batch, scopes = job
    with timer() as elapsed:
        ingest(start, count, batch, scopes)
    return elapsed()


def two_streams(start: int, count: int, batch: int, scopes: list[uuid.UUID]) -> float:
    """Wall seconds for two processes to ingest `count` chunks between them."""
    import multiprocessing

    from django.db import connections

    # Forked children must open their own connections, never share the parent's socket.
    connections.close_all()
    half = count // 2
    jobs = [(start, half, batch, scopes), (start + half, count - half, batch, scopes)]
    with timer() as wall, multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(_stream, jobs)
    return wall()


def ceiling_rate(rows: int, batch: int) -> float:
    from django.db import connection

    from launch.ai.embeddings import get_embedding_provider
    from launch.vector_store.services.writes import register_vector_adapters

    provider = get_embedding_provider()
    copy_rows = []
    for first in range(0, rows, batch):
        texts = chunk_texts(min(batch, rows - first), seed=1000 + first)
        vectors = provider.embed_documents(texts)
        copy_rows += [
            (uuid.UUID(int=first + i), uuid.UUID(int=1), i, text, vector)
            for i, (text, vector) in enumerate(zip(texts, vectors, strict=True))
        ]
    register_vector_adapters()
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE ceiling (source_id uuid, scope_id uuid, chunk_index int, "
            "content text, embedding vector(384))"
        )
        with (
            timer() as copy_time,
            cursor.copy(
                "COPY ceiling (source_id, scope_id, chunk_index, content, embedding) FROM STDIN WITH (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(["uuid", "uuid", "int4", "text", "vector"])
            for row in copy_rows:
                copy.write_row(row)
        cursor.execute("DROP TABLE ceiling")
    return len(copy_rows) / copy_time()


def baseline(start: int, count: int, scope: uuid.UUID) -> tuple[float, float]:
    """(embed seconds, ORM seconds) for `count` chunks inserted one `create` at a time."""
    from launch.ai.embeddings import get_embedding_provider
    from launch.vector_store.models import VectorRecord

    provider = get_embedding_provider()
    texts = chunk_texts(count, seed=1)
    with timer() as embed_time:
        vectors = provider.embed_documents(texts)
    with timer() as orm_time:
        for rec in records(texts, vectors, provider.model_name, start, scope):
            VectorRecord.objects.create(
                source_type_id=_type_id(),
                source_id=rec.source_id,
                scope_id=rec.scope_id,
                chunk_index=rec.chunk_index,
                content=rec.content,
                embedding=rec.embedding,
                embedding_model=rec.embedding_model,
            )
    return embed_time(), orm_time()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=2_000)
    parser.add_argument("--tail", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    setup_django(fresh=True)

    from launch.ai.embeddings import get_embedding_provider

    model = get_embedding_provider().model_name
    scopes = [uuid.uuid4() for _ in range(20)]
    n, tail, batch = args.chunks, min(args.tail, args.chunks), args.batch

    print(f"single stream: 0 -> {n:,} rows", flush=True)
    embed_s, upsert_s, per_batch = ingest(0, n, batch, scopes)
    tail_batches = -(-tail // batch)
    tail_rate = tail / sum(per_batch[-tail_batches:])
    print(f"baseline: {args.baseline:,} ORM creates at {n:,} rows", flush=True)
    base_embed, base_orm = baseline(10**9, args.baseline, scopes[0])
    print(f"pipelined: {n + args.baseline:,} -> +{tail:,} rows", flush=True)
    p_embed_wait, p_upsert, _ = ingest(n, tail, batch, scopes, pipelined=True)
    print("two streams", flush=True)
    two_wall = two_streams(2 * n, tail, batch, scopes)
    print("ceiling", flush=True)
    ceiling = ceiling_rate(min(n, 20_000), batch)

    base_rate = args.baseline / (base_embed + base_orm)
    base_db = args.baseline / base_orm
    pipelined = tail / (p_embed_wait + p_upsert)
    two = tail / two_wall
    final = f"{n:,} -> {n + 2 * tail + args.baseline:,}"
    rows = [
        [
            "single stream: embed + upsert",
            f"0 -> {n:,}",
            f"{n:,}",
            f"{n / (embed_s + upsert_s):,.0f}",
            "",
        ],
        ["  of which embed only", "", f"{n:,}", f"{n / embed_s:,.0f}", ""],
        ["  of which upsert only", "", f"{n:,}", f"{n / upsert_s:,.0f}", ""],
        [
            "single stream, last chunks of the load",
            f"{n - tail:,} -> {n:,}",
            f"{tail:,}",
            f"{tail_rate:,.0f}",
            f"{tail_rate / base_rate:.1f}x",
        ],
        [
            "baseline: embed + ORM create per row",
            f"{n:,}",
            f"{args.baseline:,}",
            f"{base_rate:,.0f}",
            "1.0x",
        ],
        ["  of which ORM create only", "", f"{args.baseline:,}", f"{base_db:,.0f}", ""],
        [
            "pipelined single stream (embed in a thread)",
            final,
            f"{tail:,}",
            f"{pipelined:,.0f}",
            f"{pipelined / base_rate:.1f}x",
        ],
        [
            "two streams (2 processes), total",
            final,
            f"{tail:,}",
            f"{two:,.0f}",
            f"{two / base_rate:.1f}x",
        ],
        [
            "ceiling: binary COPY, unindexed temp table",
            "-",
            f"{min(n, 20_000):,}",
            f"{ceiling:,.0f}",
            "",
        ],
    ]
    report = table(["path", "index size (rows)", "chunks", "chunks/s", "vs baseline"], rows)
    print(report)
    if not args.no_docs:
        write_section(
            "ingest",
            f"""### Ingestion

`DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python bench/ingest.py --chunks {n} --baseline {args.baseline} --tail {tail} --batch {batch}`

Synthetic chunks of 1,000 characters embedded by `{model}` in batches of {batch}, written with
`services.upsert` into the table with every index (HNSW included) live. The single stream
starts from an empty table; its "last chunks" row and every row below it run at the same
index size (about {n:,} rows), which is the fair comparison with the row-by-row baseline.
{environment()}

{report}
""",
        )
    if not args.keep:
        drop_database()


_TYPE_ID: list[int] = []


def _type_id() -> int:
    if not _TYPE_ID:
        from django.contrib.contenttypes.models import ContentType

        _TYPE_ID.append(ContentType.objects.get_by_natural_key("users", "user").pk)
    return _TYPE_ID[0]


if __name__ == "__main__":
    main()
