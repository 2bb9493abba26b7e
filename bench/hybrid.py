"""Hybrid search benchmark: p95 latency by how many rows match the keyword side.

    DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python bench/hybrid.py --rows 100000

Loads the search benchmark's synthetic data set, whose chunk texts carry planted words
matching 0%, 1%, 5% and 75% of the rows, and times `services.search(mode="hybrid")`
against `mode="semantic"` with the same query vectors in the same run (unscoped, k=10).
"""

# ruff: noqa: E501  (markdown and SQL templates read better unwrapped)
from __future__ import annotations

import argparse
from typing import Any

import numpy as np
from _vector_bench import drop_database, environment, latencies, setup_django, table, write_section
from vector_search import KEYWORDS, MODEL, Synthetic, load


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    setup_django(fresh=True)
    from django.db import connection

    from launch.vector_store.services import search
    from launch.vector_store.services.search import SearchTuning

    load(args.rows)
    query_vectors = Synthetic(7).sample(args.queries, np.random.default_rng(99))
    inputs = [query_vectors[i].tolist() for i in range(args.queries)]

    def semantic(vector: list[float]) -> Any:
        return search(
            query_embedding=vector, scopes=None, k=10, mode="semantic", embedding_model=MODEL
        )

    rows = []
    sem_median, sem_p95 = latencies(semantic, inputs)
    rows.append(["semantic only", "-", f"{sem_median:.1f}", f"{sem_p95:.1f}", "1.0x"])
    print(rows[-1], flush=True)
    for word in KEYWORDS:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM vector_store_vectorrecord "
                "WHERE search_vector @@ websearch_to_tsquery('english', %s)",
                [word],
            )
            (matches,) = cursor.fetchone()

        def hybrid(vector: list[float], word: str = word) -> Any:
            return search(
                word,
                query_embedding=vector,
                scopes=None,
                k=10,
                mode="hybrid",
                embedding_model=MODEL,
            )

        median, p95 = latencies(hybrid, inputs)
        rows.append(
            [
                f"hybrid, '{word}'",
                f"{matches:,}",
                f"{median:.1f}",
                f"{p95:.1f}",
                f"{p95 / sem_p95:.1f}x",
            ]
        )
        print(rows[-1], flush=True)

    report = table(["query", "keyword matches", "median ms", "p95 ms", "p95 vs semantic"], rows)
    print(report)
    if not args.no_docs:
        write_section(
            "hybrid",
            f"""### Hybrid search

`DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python bench/hybrid.py --rows {args.rows} --queries {args.queries}`

{args.rows:,} rows of the search benchmark's data set, {args.queries} queries, k=10, unscoped, one client.
Hybrid fuses the top {SearchTuning.from_settings().hybrid_candidates} of each side with reciprocal rank fusion in one statement;
the keyword side ranks at most VECTOR_KEYWORD_MATCH_CAP={SearchTuning.from_settings().keyword_match_cap} matching rows, so a word in
most rows costs the same as a word in a thousand (and ranks an arbitrary thousand of them).
{environment()}

{report}
""",
        )
    if not args.keep:
        drop_database()


if __name__ == "__main__":
    main()
