"""Search benchmark: recall@10 and latency of semantic search, unscoped and scoped.

    DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python bench/vector_search.py \
        --rows 100000 1000000

For each size: load clustered synthetic 384-d vectors (fixed seed) into `bench_vectors`,
build the indexes the migrations define, then run `services.search(mode="semantic")`
for a set of queries, unscoped and in scopes holding 1% and 10% of the rows. Recall is
against the exact top 10 computed with numpy; latency is the service call, one client.
"""

# ruff: noqa: E501  (markdown and SQL templates read better unwrapped)
from __future__ import annotations

import argparse
import datetime as dt
import uuid
from typing import Any

import numpy as np
from _vector_bench import environment, latencies, setup_django, table, timer, write_section

DIM = 384
MODEL = "bench-synthetic"
CHUNKS_PER_DOCUMENT = 50
LATENT_DIM = 24
CLUSTERS = 500
# Words planted in the chunk text with these frequencies, for the hybrid benchmark.
KEYWORDS = {"zulu": 0.0, "alpha": 0.01, "bravo": 0.05, "common": 0.75}
SCOPE_SMALL, SCOPE_LARGE = uuid.UUID(int=1), uuid.UUID(int=2)


class Synthetic:
    """Clustered vectors with a low intrinsic dimension, like real text embeddings:
    Gaussian clusters in a 24-d latent space, projected to 384-d, plus a little noise."""

    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.centers = rng.normal(size=(CLUSTERS, LATENT_DIM))
        self.projection = rng.normal(size=(LATENT_DIM, DIM)) / np.sqrt(LATENT_DIM)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        latent = self.centers[rng.integers(0, CLUSTERS, n)] + rng.normal(
            scale=0.6, size=(n, LATENT_DIM)
        )
        vectors = latent @ self.projection + rng.normal(scale=0.05, size=(n, DIM))
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors.astype(np.float32)


def scopes_for(n: int, rng: np.random.Generator) -> np.ndarray:
    """Scope number per row: 1 holds 1% of rows, 2 holds 10%, the rest spread over 89
    scopes. Scopes are dealt per document (50 consecutive chunks), as ingestion writes."""
    documents = -(-n // CHUNKS_PER_DOCUMENT)
    per_doc = rng.permutation(np.arange(documents) % 100)  # 0 -> small, 1..10 -> large
    scope = np.where(per_doc == 0, 1, np.where(per_doc <= 10, 2, 3 + per_doc))
    return np.repeat(scope, CHUNKS_PER_DOCUMENT)[:n]


def load(n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Bulk-load n rows (indexes dropped, COPY, indexes rebuilt). Returns vectors, scopes."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from launch.vector_store.services.versions import version_named
    from launch.vector_store.services.writes import register_vector_adapters

    rng = np.random.default_rng(seed)
    synthetic = Synthetic(seed)
    vectors = np.concatenate(
        [synthetic.sample(min(100_000, n - i), rng) for i in range(0, n, 100_000)]
    )
    scopes = scopes_for(n, rng)
    planted = {word: rng.random(n) < share for word, share in KEYWORDS.items()}
    type_id = ContentType.objects.get_by_natural_key("users", "user").pk
    now = dt.datetime.now(dt.UTC)

    register_vector_adapters()
    # The synthetic model's version, with its partial HNSW index (rebuilt after the load).
    version = version_named(MODEL, dimensions=DIM)
    assert version is not None
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE vector_store_vectorrecord")
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'vector_store_vectorrecord' "
            "AND indexname LIKE 'vector_record_%%' AND indexname NOT LIKE '%%_uniq'"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        with (
            timer() as copy_time,
            cursor.copy(
                "COPY vector_store_vectorrecord (id, source_type_id, source_id, scope_id, chunk_index,"
                " content, metadata, embedding, embedding_model, version_id, created_at) FROM STDIN WITH (FORMAT BINARY)"
            ) as copy,
        ):
            copy.set_types(
                [
                    "uuid",
                    "int4",
                    "uuid",
                    "uuid",
                    "int4",
                    "text",
                    "jsonb",
                    "vector",
                    "varchar",
                    "int8",
                    "timestamptz",
                ]
            )
            for i in range(n):
                words = " ".join(word for word, rows in planted.items() if rows[i])
                copy.write_row(
                    (
                        uuid.UUID(int=i + 1),
                        type_id,
                        uuid.UUID(int=(1 << 64) + i // CHUNKS_PER_DOCUMENT),
                        uuid.UUID(int=int(scopes[i])),
                        i % CHUNKS_PER_DOCUMENT,
                        f"synthetic chunk {i} of topic {i % 97} {words}",
                        {},
                        vectors[i],
                        MODEL,
                        version.pk,
                        now,
                    )
                )
        print(f"  COPY {n} rows: {copy_time():.0f} s", flush=True)
        cursor.execute("SET maintenance_work_mem = '4GB'")
        cursor.execute("SET max_parallel_maintenance_workers = 1")
        for name, definition in indexes:
            with timer() as build:
                cursor.execute(definition)
            print(f"  {name}: {build():.0f} s", flush=True)
        cursor.execute("VACUUM ANALYZE vector_store_vectorrecord")
    return vectors, scopes


def recall(hits: list[Any], truth: np.ndarray) -> float:
    found = {hit.id.int - 1 for hit in hits}
    return len(found & set(truth.tolist())) / len(truth)


def run_size(n: int, queries: int, reuse: bool) -> list[list[Any]]:
    from django.test import override_settings

    from launch.vector_store.models import VectorRecord
    from launch.vector_store.services import search

    print(f"{n} rows", flush=True)
    if reuse and VectorRecord.objects.count() == n:
        rng = np.random.default_rng(7)
        synthetic = Synthetic(7)
        vectors = np.concatenate(
            [synthetic.sample(min(100_000, n - i), rng) for i in range(0, n, 100_000)]
        )
        scopes = scopes_for(n, rng)
    else:
        vectors, scopes = load(n)
    query_vectors = Synthetic(7).sample(queries, np.random.default_rng(99))
    # Right after a load (or --reuse) the HNSW graph is still on disk or in the OS cache;
    # other queries warm it first, so every strategy below is timed with a warm cache.
    for vector in Synthetic(7).sample(queries, np.random.default_rng(98)):
        search(
            query_embedding=vector.tolist(),
            scopes=None,
            k=10,
            mode="semantic",
            embedding_model=MODEL,
        )

    cases = [
        ("unscoped", None, np.ones(n, dtype=bool)),
        ("scope 10%", SCOPE_LARGE, scopes == 2),
        ("scope 1%", SCOPE_SMALL, scopes == 1),
    ]
    from launch.vector_store.services.search import SearchTuning

    threshold = SearchTuning.from_settings().exact_scan_max_rows
    rows = []
    for label, scope, mask in cases:
        members = np.flatnonzero(mask)
        sims = query_vectors @ vectors[members].T
        truth = members[np.argsort(-sims, axis=1)[:, :10]]
        strategies: list[tuple[str, dict[str, int]]] = [("auto", {})]
        if scope is not None:
            strategies += [
                ("exact (forced)", {"VECTOR_EXACT_SCAN_MAX_ROWS": 10**9}),
                ("hnsw (forced)", {"VECTOR_EXACT_SCAN_MAX_ROWS": 0}),
            ]
        else:
            strategies += [
                (f"hnsw ef_search={ef}", {"VECTOR_HNSW_EF_SEARCH": ef}) for ef in (100, 400)
            ]
        for strategy, overrides in strategies:
            name = strategy
            if strategy == "auto":
                name = f"auto: {'exact' if scope is not None and len(members) <= threshold else 'hnsw'}"
            with override_settings(**overrides):
                results: list[float] = []

                def run(
                    i: int,
                    results: list[float] = results,
                    scope: uuid.UUID | None = scope,
                    truth: np.ndarray = truth,
                ) -> None:
                    hits = search(
                        query_embedding=query_vectors[i].tolist(),
                        scopes=None if scope is None else [scope],
                        k=10,
                        mode="semantic",
                        embedding_model=MODEL,
                    )
                    results.append(recall(hits, truth[i]))

                median, p95 = latencies(run, list(range(queries)))
            mean_recall = float(np.mean(results[-queries:]))
            rows.append(
                [
                    f"{n:,}",
                    label,
                    f"{len(members):,}",
                    name,
                    f"{mean_recall:.3f}",
                    f"{median:.1f}",
                    f"{p95:.1f}",
                ]
            )
            print("  " + " | ".join(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--keep", action="store_true", help="keep bench_vectors (reuse it with --reuse)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="skip loading when the row count matches"
    )
    parser.add_argument(
        "--no-docs", action="store_true", help="print only, leave docs/benchmarks.md"
    )
    args = parser.parse_args()
    setup_django(fresh=not args.reuse)
    from _vector_bench import drop_database

    rows: list[list[Any]] = []
    for n in args.rows:
        rows += run_size(n, args.queries, args.reuse)
    from launch.vector_store.services.search import SearchTuning

    report = table(
        ["rows", "case", "rows in scope", "strategy", "recall@10", "median ms", "p95 ms"], rows
    )
    print(report)
    if not args.no_docs:
        sizes = " ".join(str(n) for n in args.rows)
        write_section(
            "vector_search",
            f"""### Search (semantic)

`DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python bench/vector_search.py --rows {sizes} --queries {args.queries}`

{args.queries} queries, k=10, through `launch.vector_store.services.search` (one client; includes the
scope-size probe and the Python call). Data: {CLUSTERS} Gaussian clusters in a {LATENT_DIM}-d latent space
projected to {DIM}-d (seed 7), scopes dealt per 50-chunk document. Recall against numpy's exact top 10.
"auto" is what the service picks (exact scan up to VECTOR_EXACT_SCAN_MAX_ROWS={SearchTuning.from_settings().exact_scan_max_rows} rows,
else HNSW with iterative scan, ef_search={SearchTuning.from_settings().hnsw_ef_search}); the forced rows show the road not taken.
{environment()}

{report}
""",
        )
    if not args.keep:
        drop_database()


if __name__ == "__main__":
    main()
