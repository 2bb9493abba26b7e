"""Search: ordering, modes, scopes, models and both semantic strategies."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from launch.vector_store.services import SEARCH_MODES, search, upsert
from tests.vector_store.conftest import MODEL, MakeRecord, cosine_similarity, near, unit_vector

pytestmark = pytest.mark.django_db

# Both semantic strategies: every row count is "small" for the first, none for the second.
EXACT = override_settings(VECTOR_EXACT_SCAN_MAX_ROWS=1_000_000)
HNSW = override_settings(VECTOR_EXACT_SCAN_MAX_ROWS=0, VECTOR_HNSW_EF_SEARCH=400)
STRATEGIES = pytest.mark.parametrize("strategy", ["exact", "hnsw"])


@pytest.fixture
def use(strategy: str) -> Iterator[None]:
    with EXACT if strategy == "exact" else HNSW:
        yield


def used_hnsw(queries: CaptureQueriesContext) -> bool:
    return any("hnsw.iterative_scan" in query["sql"] for query in queries.captured_queries)


@STRATEGIES
def test_semantic_order_matches_an_exact_computation(make_record: MakeRecord, use, strategy):
    scope = uuid.uuid4()
    records = [make_record(scope_id=scope, seed=i) for i in range(300)]
    upsert(records)
    query = near(records[42].embedding, seed=999, noise=1.5)

    with CaptureQueriesContext(connection) as queries:
        hits = search(
            query_embedding=query, scopes=[scope], k=10, mode="semantic", embedding_model=MODEL
        )

    expected = sorted(records, key=lambda r: -cosine_similarity(query, r.embedding))[:10]
    assert [hit.source_id for hit in hits] == [r.source_id for r in expected]
    assert [hit.score for hit in hits] == pytest.approx(
        [cosine_similarity(query, r.embedding) for r in expected], abs=1e-5
    )
    assert used_hnsw(queries) is (strategy == "hnsw")


def test_semantic_hit_carries_the_stored_fields(make_record: MakeRecord):
    scope = uuid.uuid4()
    record = make_record(scope_id=scope, chunk_index=3, content="hello", metadata={"page": 2})
    upsert([record])

    (hit,) = search(
        query_embedding=record.embedding,
        scopes=[scope],
        k=5,
        mode="semantic",
        embedding_model=MODEL,
    )

    assert (hit.source_type, hit.source_id, hit.scope_id, hit.chunk_index) == (
        "users.user",
        record.source_id,
        scope,
        3,
    )
    assert (hit.content, hit.metadata) == ("hello", {"page": 2})
    assert hit.score == pytest.approx(1.0, abs=1e-5)


@STRATEGIES
def test_a_narrow_scope_still_gets_k_results(make_record: MakeRecord, use, strategy):
    """A scope holding 1% of the rows: HNSW alone filters after the scan and starves it."""
    narrow = uuid.uuid4()
    crowd = [make_record(scope_id=uuid.uuid4(), seed=i) for i in range(1980)]
    mine = [make_record(scope_id=narrow, seed=10_000 + i) for i in range(20)]
    upsert(crowd + mine)
    # A query right inside the crowd: its nearest neighbours are all in other scopes.
    query = near(crowd[0].embedding, seed=7, noise=0.1)

    hits = search(
        query_embedding=query, scopes=[narrow], k=10, mode="semantic", embedding_model=MODEL
    )

    assert len(hits) == 10
    assert {hit.scope_id for hit in hits} == {narrow}
    expected = sorted(mine, key=lambda r: -cosine_similarity(query, r.embedding))[:10]
    assert [hit.source_id for hit in hits] == [r.source_id for r in expected]


def test_keyword_finds_the_rows_with_the_word(make_record: MakeRecord):
    scope = uuid.uuid4()
    upsert(
        [
            make_record(scope_id=scope, content="The quarterly invoice is overdue", seed=1),
            make_record(scope_id=scope, content="Invoices are sent monthly", seed=2),
            make_record(scope_id=scope, content="Nothing to see here", seed=3),
        ]
    )

    hits = search("invoice", scopes=[scope], k=10, mode="keyword", embedding_model=MODEL)

    # English stemming: "invoice" also matches "Invoices".
    assert sorted(hit.content for hit in hits) == [
        "Invoices are sent monthly",
        "The quarterly invoice is overdue",
    ]
    assert all(0 < hit.score < 1 for hit in hits)


def test_keyword_ranks_denser_matches_first(make_record: MakeRecord):
    scope = uuid.uuid4()
    upsert(
        [
            make_record(
                scope_id=scope, content="pgvector mentioned once among many other words", seed=1
            ),
            make_record(scope_id=scope, content="pgvector pgvector pgvector", seed=2),
        ]
    )

    hits = search("pgvector", scopes=[scope], k=10, mode="keyword", embedding_model=MODEL)

    assert [hit.content for hit in hits] == [
        "pgvector pgvector pgvector",
        "pgvector mentioned once among many other words",
    ]
    assert hits[0].score > hits[1].score


def test_keyword_query_syntax_never_errors(make_record: MakeRecord):
    scope = uuid.uuid4()
    upsert([make_record(scope_id=scope, content="alpha beta")])

    for text in ['"unclosed', "alpha & | !", "-beta alpha", "(((", "the"]:
        search(text, scopes=[scope], k=5, mode="keyword", embedding_model=MODEL)
    assert search('"alpha beta"', scopes=[scope], k=5, mode="keyword", embedding_model=MODEL)


@STRATEGIES
def test_hybrid_returns_the_union_ranked_by_fusion(make_record: MakeRecord, use, strategy):
    scope = uuid.uuid4()
    target = unit_vector(1)
    both = make_record(
        scope_id=scope, content="zebra crossing, zebra rules", embedding=near(target, 2, 0.1)
    )
    semantic_only = make_record(
        scope_id=scope, content="pedestrian safety", embedding=near(target, 3, 0.3)
    )
    keyword_only = make_record(scope_id=scope, content="zebra habitats", seed=50)
    upsert(
        [
            both,
            semantic_only,
            keyword_only,
            *(make_record(scope_id=scope, seed=100 + i) for i in range(20)),
        ]
    )

    hits = search(
        "zebra", query_embedding=target, scopes=[scope], k=5, mode="hybrid", embedding_model=MODEL
    )

    by_id = {hit.source_id: hit for hit in hits}
    assert hits[0].source_id == both.source_id
    assert hits[0].score == pytest.approx(2 / 61)  # first in both lists
    assert by_id[semantic_only.source_id].score == pytest.approx(1 / 62)
    assert keyword_only.source_id in by_id
    assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_empty_scopes_return_nothing_without_querying(
    make_record: MakeRecord, django_assert_num_queries
):
    upsert([make_record(scope_id=uuid.uuid4(), content="secret")])

    with django_assert_num_queries(0):
        for mode in SEARCH_MODES:
            assert search("secret", query_embedding=unit_vector(0), scopes=[], k=5, mode=mode) == []


def test_no_scopes_means_every_scope(make_record: MakeRecord):
    records = [make_record(scope_id=uuid.uuid4(), content="shared word", seed=i) for i in range(3)]
    upsert(records)

    hits = search("shared", scopes=None, k=10, mode="keyword", embedding_model=MODEL)

    assert {hit.scope_id for hit in hits} == {r.scope_id for r in records}


@STRATEGIES
@pytest.mark.parametrize("mode", SEARCH_MODES)
def test_search_never_leaks_rows_of_other_scopes(make_record: MakeRecord, use, strategy, mode):
    mine, theirs, also_mine = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    query = unit_vector(1)
    # The other scope holds the better matches on both sides.
    upsert(
        [
            make_record(scope_id=theirs, content="budget budget", embedding=near(query, i, 0.05))
            for i in range(30)
        ]
    )
    upsert([make_record(scope_id=mine, content="budget", seed=100 + i) for i in range(5)])
    upsert([make_record(scope_id=also_mine, content="other", seed=200 + i) for i in range(5)])

    hits = search(
        "budget",
        query_embedding=query,
        scopes=[mine, also_mine],
        k=10,
        mode=mode,
        embedding_model=MODEL,
    )

    assert hits
    assert {hit.scope_id for hit in hits} <= {mine, also_mine}


@pytest.mark.parametrize("mode", SEARCH_MODES)
def test_a_search_never_mixes_embedding_models(make_record: MakeRecord, mode):
    scope = uuid.uuid4()
    query = unit_vector(1)
    upsert([make_record(scope_id=scope, content="apple", embedding=query, model="old-model")])
    current = make_record(scope_id=scope, content="apple pie", seed=5)
    upsert([current])

    hits = search(
        "apple", query_embedding=query, scopes=[scope], k=10, mode=mode, embedding_model=MODEL
    )

    assert [hit.source_id for hit in hits] == [current.source_id]


def test_metadata_filters_keep_rows_containing_any_of_the_mappings(make_record: MakeRecord):
    scope = uuid.uuid4()
    pdf = make_record(scope_id=scope, content="report", metadata={"type": "pdf", "page": 1})
    txt = make_record(scope_id=scope, content="report", metadata={"type": "txt"}, seed=1)
    html = make_record(scope_id=scope, content="report", metadata={"type": "html"}, seed=2)
    upsert([pdf, txt, html])

    only_pdf = search(
        "report",
        scopes=[scope],
        k=10,
        mode="keyword",
        embedding_model=MODEL,
        metadata={"type": "pdf"},
    )
    pdf_or_txt = search(
        "report",
        scopes=[scope],
        k=10,
        mode="keyword",
        embedding_model=MODEL,
        metadata=[{"type": "pdf"}, {"type": "txt"}],
    )

    assert [hit.source_id for hit in only_pdf] == [pdf.source_id]
    assert {hit.source_id for hit in pdf_or_txt} == {pdf.source_id, txt.source_id}


def test_search_embeds_the_query_with_the_current_provider():
    from launch.ai.embeddings import get_embedding_provider
    from launch.vector_store.services import RecordIn

    provider = get_embedding_provider()
    scope = uuid.uuid4()
    texts = [
        "the cat sat on the mat",
        "quantum chromodynamics lecture notes",
        "tax return deadline",
    ]
    upsert(
        [
            RecordIn(
                source_type="users.user",
                source_id=uuid.uuid4(),
                scope_id=scope,
                chunk_index=0,
                content=text,
                embedding=vector,
                embedding_model=provider.model_name,
            )
            for text, vector in zip(texts, provider.embed_documents(texts), strict=True)
        ]
    )

    hits = search("quantum chromodynamics", scopes=[scope], k=1, mode="semantic")

    assert [hit.content for hit in hits] == ["quantum chromodynamics lecture notes"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"query": "x", "mode": "fuzzy"}, "mode must be"),
        ({"query": "x", "k": 0}, "k must be"),
        ({"query": "  ", "mode": "keyword"}, "needs a query text"),
        ({"query": None, "mode": "hybrid", "query_embedding": [0.0] * 384}, "needs a query text"),
        ({"query": None, "mode": "semantic"}, "query_embedding"),
    ],
)
def test_bad_search_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        search(scopes=[uuid.uuid4()], embedding_model=MODEL, **kwargs)
