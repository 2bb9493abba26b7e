"""The metric math on examples computed by hand."""

from __future__ import annotations

import math

import pytest

from launch.evaluation import metrics

QRELS = {"a": 1, "b": 1, "c": 0}  # c was judged and found irrelevant


def test_recall_counts_relevant_documents_found_in_the_top_k():
    ranked = ["x", "a", "y", "b"]
    assert metrics.recall_at_k(ranked, QRELS, 1) == 0.0
    assert metrics.recall_at_k(ranked, QRELS, 2) == 0.5
    assert metrics.recall_at_k(ranked, QRELS, 4) == 1.0
    assert metrics.recall_at_k(ranked, {"c": 0}, 4) == 0.0  # nothing relevant to find


def test_reciprocal_rank_is_one_over_the_first_relevant_rank_within_k():
    assert metrics.reciprocal_rank(["c", "x", "b", "a"], QRELS) == pytest.approx(1 / 3)
    assert metrics.reciprocal_rank(["a"], QRELS) == 1.0
    assert metrics.reciprocal_rank(["x"] * 10 + ["a"], QRELS, 10) == 0.0


def test_ndcg_by_hand():
    # Graded: a=2, b=1. Ranking b, x, a: DCG = 1/log2(2) + 2/log2(4) = 1 + 1 = 2.
    # Ideal a, b: IDCG = 2/log2(2) + 1/log2(3) = 2 + 0.6309 = 2.6309.
    graded = {"a": 2, "b": 1}
    assert metrics.ndcg_at_k(["b", "x", "a"], graded, 10) == pytest.approx(
        2 / (2 + 1 / math.log2(3))
    )
    assert metrics.ndcg_at_k(["a", "b"], graded, 10) == 1.0
    assert metrics.ndcg_at_k(["x", "y"], graded, 10) == 0.0
    # The cut-off applies to the ranking and to the ideal alike.
    assert metrics.ndcg_at_k(["b", "a"], graded, 1) == pytest.approx(1 / 2)


def test_percentile_is_nearest_rank_and_mean_of_nothing_is_zero():
    values = [float(v) for v in range(1, 21)]  # 1..20
    assert metrics.percentile(values, 0.5) == 10.0
    assert metrics.percentile(values, 0.95) == 19.0
    assert metrics.percentile([], 0.5) == 0.0
    assert metrics.mean([]) == 0.0
    assert metrics.mean([1.0, 0.0]) == 0.5
