"""Ranking metrics, computed per query and averaged over queries (as trec_eval and BEIR).

`ranked` is the list of document ids a search returned, best first (no duplicates);
`qrels` maps the judged document ids of the query to their grade (> 0 is relevant).

- recall@k: the share of the query's relevant documents found in the top k.
- MRR@10: 1 / the rank of the first relevant document in the top 10 (0 if none).
- nDCG@10: DCG@10 / IDCG@10, where DCG@k = sum over ranks i = 1..k of
  grade(i) / log2(i + 1) and IDCG@k is the DCG of the ideal order (the judged documents
  by grade). Linear gains, as trec_eval's `ndcg_cut` that BEIR reports.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

DEFINITIONS = {
    "recall@k": "share of a query's relevant documents found in the top k, averaged",
    "MRR@10": "1 / rank of the first relevant document in the top 10 (0 if none), averaged",
    "nDCG@10": "DCG@10 / ideal DCG@10, DCG = sum of grade / log2(rank + 1), averaged",
    "p50/p95": "median and 95th percentile of one search's latency (nearest rank), ms",
}


def recall_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    relevant = {doc for doc, grade in qrels.items() if grade > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def reciprocal_rank(ranked: Sequence[str], qrels: Mapping[str, int], k: int = 10) -> float:
    for rank, doc in enumerate(ranked[:k], start=1):
        if qrels.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def dcg(grades: Sequence[int]) -> float:
    return sum(grade / math.log2(rank + 1) for rank, grade in enumerate(grades, start=1))


def ndcg_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int = 10) -> float:
    ideal = dcg(sorted((g for g in qrels.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([max(0, qrels.get(doc, 0)) for doc in ranked[:k]]) / ideal


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (`fraction` in [0, 1]); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
