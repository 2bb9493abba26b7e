"""Embedding throughput: chunks/s of each provider on CPU, and one query's latency.

    .venv/bin/python bench/embeddings.py --model /models/all-MiniLM-L6-v2 --chunks 512

Chunks are ~1,000 characters (CHUNK_SIZE's default), cut from the shipped evaluation
corpus (eval/rust-notes) repeated; every provider embeds the same chunks in batches of
EMBEDDING_BATCH_SIZE (64), after one warm-up batch. No database is involved. Prints a
markdown table; `--docs` writes it into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DOCS = ROOT / "docs" / "benchmarks.md"


def chunks(count: int, size: int = 1000) -> list[str]:
    passages = [
        json.loads(line)["text"]
        for line in (ROOT / "eval" / "rust-notes" / "corpus.jsonl").read_text().splitlines()
    ]
    text = " ".join(passages)
    out: list[str] = []
    start = 0
    while len(out) < count:
        if start + size > len(text):
            start = (start + 37) % 200  # another phase, so the chunks are not all equal
            continue
        out.append(text[start : start + size])
        start += size
    return out


def measure(provider: object, texts: list[str], batch: int) -> tuple[float, float]:
    embed = provider.embed_documents  # type: ignore[attr-defined]
    embed(texts[:batch])  # warm-up: lazy initialisation, caches
    started = time.perf_counter()
    for i in range(0, len(texts), batch):
        embed(texts[i : i + batch])
    rate = len(texts) / (time.perf_counter() - started)
    query = provider.embed_query  # type: ignore[attr-defined]
    timings = []
    for text in texts[:50]:
        t = time.perf_counter()
        query(text[:80])
        timings.append((time.perf_counter() - t) * 1000)
    return rate, statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", help="A local ONNX model directory (EMBEDDING_MODEL).")
    parser.add_argument("--chunks", type=int, default=512)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--docs", action="store_true", help="write docs/benchmarks.md")
    args = parser.parse_args()

    from launch.ai.embeddings.hashing import HashingEmbeddingProvider

    texts = chunks(args.chunks)
    rows = []
    providers: list[tuple[str, object]] = [("hashing-v1-384", HashingEmbeddingProvider(384))]
    if args.model:
        from launch.ai.embeddings.onnx import OnnxEmbeddingProvider

        onnx = OnnxEmbeddingProvider(model=args.model, batch_size=args.batch)
        providers.append((f"onnx {onnx.model_name} ({onnx.dimensions} d)", onnx))
    for name, provider in providers:
        rate, query_ms = measure(provider, texts, args.batch)
        rows.append(f"| {name} | {rate:,.0f} | {query_ms:.1f} |")
        print(rows[-1], flush=True)
    load = os.getloadavg()[0]
    table = "\n".join(["| provider | chunks/s | one query, median ms |", "|---|---|---|", *rows])
    print(table)
    if args.docs:
        body = f"""### Embedding throughput (local models)

`.venv/bin/python bench/embeddings.py --model /models/all-MiniLM-L6-v2 --chunks {args.chunks}`

{args.chunks} chunks of 1,000 characters (from eval/rust-notes), batches of {args.batch}, on
{os.cpu_count()} CPUs (load average {load:.1f} when measured: the machine was shared). The query
column is one short query (80 characters), as a search embeds it.

{table}"""
        text = DOCS.read_text()
        start, end = "<!-- bench:embeddings -->", "<!-- /bench:embeddings -->"
        block = f"{start}\n{body}\n{end}"
        if start in text:
            text = re.sub(
                re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S
            )
        else:
            text = text.rstrip("\n") + "\n\n## Local embedding models (issue 15)\n\n" + block + "\n"
        DOCS.write_text(text)


if __name__ == "__main__":
    main()
