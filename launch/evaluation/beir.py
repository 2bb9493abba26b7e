"""Reading a dataset in the BEIR layout: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.

corpus.jsonl: one JSON object a line with `_id`, `text` and optionally `title`.
queries.jsonl: `_id` and `text`. qrels/test.tsv: a header line, then
`query-id<TAB>corpus-id<TAB>score`. Only queries that have judgements are kept.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path


class DatasetError(Exception):
    """The folder is not a readable BEIR dataset (the message names the file)."""


@dataclass(frozen=True)
class Dataset:
    name: str
    corpus: dict[str, tuple[str, str]]  # id -> (title, text)
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _jsonl(path: Path) -> list[dict[str, object]]:
    if not path.is_file():
        raise DatasetError(f"{path} is missing")
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise DatasetError(f"{path}:{number} is not JSON: {exc}") from exc
            if not isinstance(row, dict) or "_id" not in row:
                raise DatasetError(f"{path}:{number} has no _id")
            rows.append(row)
    return rows


def load(folder: Path, split: str = "test") -> Dataset:
    corpus = {
        str(row["_id"]): (str(row.get("title") or ""), str(row.get("text") or ""))
        for row in _jsonl(folder / "corpus.jsonl")
    }
    queries = {
        str(row["_id"]): str(row.get("text") or "") for row in _jsonl(folder / "queries.jsonl")
    }
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        raise DatasetError(f"{qrels_path} is missing")
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle, delimiter="\t"), start=1):
            if not row or (number == 1 and not row[-1].strip().lstrip("-").isdigit()):
                continue  # blank line, or the header
            try:
                query_id, doc_id, grade = row[0], row[1], int(row[2])
            except (IndexError, ValueError) as exc:
                raise DatasetError(f"{qrels_path}:{number} is not id<TAB>id<TAB>grade") from exc
            if query_id in queries and doc_id in corpus:
                qrels.setdefault(query_id, {})[doc_id] = grade
    judged = {qid: text for qid, text in queries.items() if qid in qrels}
    if not judged:
        raise DatasetError(f"no query of {folder} has a judgement in {qrels_path.name}")
    return Dataset(name=folder.name, corpus=corpus, queries=judged, qrels=qrels)
