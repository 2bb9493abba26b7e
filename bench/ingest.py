"""Ingestion benchmark: chunks/s through embed + upsert into the live store.

    DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python bench/ingest.py --chunks 100000

Three write paths, same synthetic ~1,000-character chunks, same run:

- pipeline: the current embedding provider (hashing by default) in batches, then
  `services.upsert` (COPY + INSERT ... ON CONFLICT) into the table with its HNSW, GIN and
  b-tree indexes live, starting empty;
- baseline: `VectorRecord.objects.create` per row, on fewer rows (`--baseline`),
  measured first, on the near-empty table, which flatters the baseline;
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--baseline", type=int, default=2_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    setup_django(fresh=True)

    from django.db import connection

    from launch.ai.embeddings import get_embedding_provider
    from launch.vector_store.models import VectorRecord
    from launch.vector_store.services import upsert
    from launch.vector_store.services.writes import register_vector_adapters

    provider = get_embedding_provider()
    scopes = [uuid.uuid4() for _ in range(20)]

    # Baseline: embed, then one ORM INSERT per row (autocommit, as a naive loop would).
    texts = chunk_texts(args.baseline, seed=1)
    with timer() as embed_time:
        vectors = provider.embed_documents(texts)
    baseline_embed = embed_time()
    with timer() as orm_time:
        for i, rec in enumerate(records(texts, vectors, provider.model_name, 10**9, scopes[0])):
            VectorRecord.objects.create(
                source_type_id=_type_id(),
                source_id=rec.source_id,
                scope_id=rec.scope_id,
                chunk_index=i % 50,
                content=rec.content,
                embedding=rec.embedding,
                embedding_model=rec.embedding_model,
            )
    baseline_db = orm_time()
    VectorRecord.objects.all().delete()
    connection.cursor().execute("VACUUM vector_store_vectorrecord")
    print(f"baseline: {args.baseline / baseline_db:.0f} rows/s (ORM only)", flush=True)

    # Pipeline: embed + upsert in batches, timed separately and together.
    embed_total = upsert_total = 0.0
    copy_rows: list[tuple[Any, ...]] = []
    for start in range(0, args.chunks, args.batch):
        texts = chunk_texts(min(args.batch, args.chunks - start), seed=1000 + start)
        with timer() as embed_time:
            vectors = provider.embed_documents(texts)
        embed_total += embed_time()
        batch = records(
            texts, vectors, provider.model_name, start, scopes[(start // args.batch) % len(scopes)]
        )
        with timer() as upsert_time:
            upsert(batch)
        upsert_total += upsert_time()
        if start < 20_000:  # rows for the COPY ceiling
            copy_rows += [
                (r.source_id, r.scope_id, r.chunk_index, r.content, r.embedding) for r in batch
            ]
        if (start // args.batch) % 10 == 0:
            print(
                f"  {start + len(batch)} chunks, embed {embed_total:.0f} s, upsert {upsert_total:.0f} s",
                flush=True,
            )

    # Ceiling: COPY the same kind of rows into an unindexed temporary table.
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
        ceiling = len(copy_rows) / copy_time()

    n = args.chunks
    rows = [
        [
            f"pipeline: embed ({provider.model_name}) + upsert, HNSW live",
            f"{n:,}",
            f"{n / (embed_total + upsert_total):,.0f}",
        ],
        ["  of which embed only", f"{n:,}", f"{n / embed_total:,.0f}"],
        [
            "  of which upsert only (COPY + INSERT ON CONFLICT)",
            f"{n:,}",
            f"{n / upsert_total:,.0f}",
        ],
        [
            "baseline: embed + ORM create per row, HNSW live",
            f"{args.baseline:,}",
            f"{args.baseline / (baseline_embed + baseline_db):,.0f}",
        ],
        ["  of which ORM create only", f"{args.baseline:,}", f"{args.baseline / baseline_db:,.0f}"],
        [
            "ceiling: binary COPY into an unindexed temp table",
            f"{len(copy_rows):,}",
            f"{ceiling:,.0f}",
        ],
    ]
    report = table(["path", "chunks", "chunks/s"], rows)
    speedup_db = (n / upsert_total) / (args.baseline / baseline_db)
    speedup_all = (n / (embed_total + upsert_total)) / (
        args.baseline / (baseline_embed + baseline_db)
    )
    summary = (
        f"Upsert vs row-by-row ORM insert (database side only): {speedup_db:.1f}x; "
        f"whole pipeline vs baseline pipeline: {speedup_all:.1f}x. The baseline ran on a near-empty "
        "index, the pipeline's figure is the average while the index grew to the full count: "
        "HNSW insertion, not the round trips, bounds both."
    )
    print(report)
    print(summary)
    if not args.no_docs:
        write_section(
            "ingest",
            f"""### Ingestion

`DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python bench/ingest.py --chunks {n} --baseline {args.baseline} --batch {args.batch}`

{n:,} synthetic chunks of 1,000 characters, embedded by `{provider.model_name}` in batches of {args.batch}
and written with `services.upsert` into the table with all its indexes (HNSW included) live,
starting empty. The baseline is `VectorRecord.objects.create` in a loop on {args.baseline:,} rows
(rate extrapolated), measured first on the empty table, which flatters it. The ceiling
is a binary COPY of {len(copy_rows):,} of the same rows into an unindexed temporary table.
{environment()}

{report}

{summary}
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
