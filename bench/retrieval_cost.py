# ruff: noqa: E501  (the command line in the docstring reads better unwrapped)
"""Retrieval cost: one hybrid search for a chat-sized message, keyword side bounded or not.

    DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python bench/retrieval_cost.py --chunks 3000

Loads `--chunks` chunks of English (words of tests/fixtures/corpus, about 1,000
characters each, as CHUNK_SIZE cuts them) into one scope, then times
`services.search(mode="hybrid", k=6)`, as chat retrieval runs it, for 32,000-character
messages of the shapes that cost most, with VECTOR_KEYWORD_MAX_TERMS=32 (the default)
and with the bound lifted. A statement over `--timeout` seconds is stopped, as the API's
statement timeout would.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import time
import uuid

from _vector_bench import ROOT, drop_database, environment, setup_django, table, write_section

CORPUS = ROOT / "tests" / "fixtures" / "corpus" / "documents"
SHAPES = ["or chain", "pasted document", "quoted phrases", "every distinct word", "one word"]


def messages(words: list[str], pasted: list[str], limit: int) -> dict[str, str]:
    rng = random.Random(7)
    common = sorted(set(words), key=words.count, reverse=True)[:300]
    makers = {
        "or chain": lambda: f"{rng.choice(common)} or",
        "pasted document": lambda: rng.choice(pasted),
        "quoted phrases": lambda: '"' + " ".join(rng.sample(common, 3)) + '"',
        "every distinct word": lambda: rng.choice(words),
        "one word": lambda: common[0],
    }
    out = {}
    for shape in SHAPES:
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) <= limit:
            parts.append(makers[shape]())
        out[shape] = " ".join(parts)[:limit]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chunks", type=int, default=3000)
    parser.add_argument("--timeout", type=int, default=60)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    setup_django(fresh=True)
    from django.conf import settings
    from django.db import connection

    from launch.ai.embeddings import get_embedding_provider
    from launch.vector_store.services import RecordIn, search, upsert

    text = " ".join(path.read_text() for path in sorted(CORPUS.iterdir()))
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", text)
    rng = random.Random(5)
    pasted = []
    for _ in range(args.chunks):
        start = rng.randrange(len(words) - 170)
        pasted.append(" ".join(words[start : start + 170]))
    provider = get_embedding_provider()
    scope = uuid.uuid4()
    upsert(
        [
            RecordIn(
                source_type="users.user",
                source_id=uuid.uuid4(),
                scope_id=scope,
                chunk_index=0,
                content=chunk,
                embedding=vector,
                embedding_model=provider.model_name,
            )
            for chunk, vector in zip(pasted, provider.embed_documents(pasted), strict=True)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE vector_store_vectorrecord")
        cursor.execute(f"SET statement_timeout = '{int(args.timeout)}s'")

    def run(message: str, terms: int) -> str:
        settings.VECTOR_KEYWORD_MAX_TERMS = terms
        started = time.perf_counter()
        try:
            search(message, scopes=[scope], k=6, mode="hybrid")
        except Exception as error:  # the statement timeout
            if "statement timeout" not in str(error):
                raise
            return f"> {args.timeout * 1000:,} (stopped)"
        return f"{(time.perf_counter() - started) * 1000:,.0f}"

    rows = []
    for shape, message in messages(words, pasted, 32_000).items():
        rows.append([shape, run(message, 32), run(message, 10**6)])
        print(rows[-1], flush=True)
    body = "\n".join(
        [
            "### Retrieval cost of a long chat message",
            "",
            "`DJANGO_SETTINGS_MODULE=config.settings.local .venv/bin/python "
            f"bench/retrieval_cost.py --chunks {args.chunks}`",
            "",
            f"One scope of {args.chunks:,} chunks of English (~1,000 characters each); one "
            "hybrid search (k=6, as chat retrieval) per 32,000-character message. Issue 11 "
            "found 56 s of PostgreSQL time for such a message on 64 chunks; the keyword side "
            "now keeps the message's first VECTOR_KEYWORD_MAX_TERMS=32 distinct words. "
            f"Load average {os.getloadavg()[0]:.0f} at the end of the run. " + environment(),
            "",
            table(["message shape", "bounded (32 terms), ms", "unbounded, ms"], rows),
        ]
    )
    print(body)
    if not args.no_docs:
        write_section("retrieval_cost", body)
    if not args.keep:
        drop_database()


if __name__ == "__main__":
    main()
