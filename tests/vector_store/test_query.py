"""The keyword side's bounded query text: distinct words, capped, websearch syntax kept."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from launch.vector_store.services import search, upsert
from launch.vector_store.services.query import bounded_keyword_text
from launch.vector_store.services.search import search_traced
from tests.vector_store.conftest import MODEL, MakeRecord


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("invoice overdue", "invoice overdue"),
        ("Invoice invoice INVOICE overdue invoice", "Invoice overdue"),
        ('"late fee" "Late Fee" late fee', '"late fee" late fee'),
        ("-draft draft -DRAFT", "-draft draft"),
        ('-"old copy" "old copy"', '-"old copy" "old copy"'),
        ("cats or or OR dogs or", "cats or dogs"),
        ("or cats", "cats"),
        ("!!! ... cats", "cats"),
        ("", ""),
    ],
)
def test_duplicates_and_empty_operators_are_dropped(text, expected):
    assert bounded_keyword_text(text, max_terms=32) == expected


def test_only_the_first_distinct_words_are_kept():
    words = [f"word{i}" for i in range(100)]
    text = " ".join(words * 50)  # 5,000 words, 100 distinct

    assert bounded_keyword_text(text, max_terms=8) == " ".join(words[:8])


def test_a_phrase_counts_its_words_and_is_cut_inside_its_quotes():
    text = '"one two three four five" six'

    assert bounded_keyword_text(text, max_terms=3) == '"one two three"'
    assert bounded_keyword_text(text, max_terms=6) == text


def test_a_compound_token_counts_each_of_its_words():
    assert bounded_keyword_text("a-b-c-d-e-f second", max_terms=4) == "a-b-c-d"


def test_an_or_chain_of_any_length_keeps_at_most_the_cap():
    text = " or ".join(f"w{i}" for i in range(6000))

    bounded = bounded_keyword_text(text, max_terms=32)

    assert bounded.split(" or ") == [f"w{i}" for i in range(32)]


@pytest.mark.django_db
def test_the_database_receives_the_bounded_text(make_record: MakeRecord):
    scope = uuid.uuid4()
    upsert([make_record(scope_id=scope, content="the invoice is overdue")])
    message = "invoice " * 4000 + "overdue"

    with override_settings(VECTOR_KEYWORD_MAX_TERMS=32), CaptureQueriesContext(connection) as q:
        hits = search(message, scopes=[scope], k=5, mode="keyword", embedding_model=MODEL)

    assert [hit.content for hit in hits] == ["the invoice is overdue"]
    keyword_sql = next(query["sql"] for query in q.captured_queries if "websearch" in query["sql"])
    assert "'invoice overdue'" in keyword_sql
    assert keyword_sql.count("invoice") == 2  # once in each of the two tsquery calls


@pytest.mark.django_db
def test_the_traced_search_reports_the_keyword_query_it_ran(make_record: MakeRecord):
    scope = uuid.uuid4()
    upsert([make_record(scope_id=scope, content="the invoice is overdue")])
    message = "invoice " * 4000 + "overdue"

    with override_settings(VECTOR_KEYWORD_MAX_TERMS=32):
        result = search_traced(message, scopes=[scope], k=5, mode="keyword", embedding_model=MODEL)

    assert result.query == "invoice overdue"  # what the RAG debugger shows as run
