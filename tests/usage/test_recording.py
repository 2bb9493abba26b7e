"""What the ledger records, checked against what the loopback model server received:
one row per provider call, the server's own token counts, estimates marked as such."""

from __future__ import annotations

import logging

import pytest
from django.db import connection

from apps.apikeys.services import apikey_create
from apps.chat import services as chat
from apps.chat.models import ChatMessage
from apps.usage.models import ModelCall
from launch.ai.chunking import estimate_tokens
from tests.chat.conftest import TIDES, conversation_url, create_project, ingest
from tests.chat.test_streaming_wsgi import events, open_stream
from tests.usage.conftest import embedding_tokens, prompt_tokens, words

pytestmark = pytest.mark.django_db

QUESTION = "When is high tide?"


def ask(client, conversation, **extra):
    return client.post(
        conversation_url(conversation, "/messages"),
        {"content": QUESTION, **extra},
        format="json",
    )


@pytest.mark.usefixtures("tides")
def test_an_answer_records_its_query_embedding_and_the_servers_token_counts(
    client_for, member, personal_team, conversation, llm
):
    ModelCall.objects.all().delete()  # the fixture's ingestion is another test's subject
    response = ask(client_for(member), conversation)
    assert response.status_code == 201, response.content

    (request,) = llm.requests_to("/chat/completions")
    answer = ModelCall.objects.get(purpose="answer")
    assert (answer.provider, answer.model, answer.status) == ("openai", "harbour-model", "ok")
    assert answer.input_tokens == prompt_tokens(request)
    assert answer.output_tokens == words(llm.chat_reply)
    assert answer.tokens_estimated is False
    assert answer.user == member
    assert answer.team == personal_team
    assert answer.conversation_id == conversation.pk
    assert answer.project_id == conversation.project_id
    # The query was embedded by the offline default provider, which reports no count.
    query = ModelCall.objects.get(purpose="query_embedding")
    assert (query.provider, query.status, query.tokens_estimated) == ("hashing", "ok", True)
    assert query.input_tokens > 0
    assert ModelCall.objects.count() == 2


def test_ingestion_records_one_row_per_embedding_request_with_the_servers_counts(
    member, embeddings
):
    project = create_project(owner=member)
    text = "\n\n".join(f"Paragraph {n}: " + TIDES * 3 for n in range(6))
    document = ingest(project, text, "long.txt")

    requests = embeddings.requests_to("/embeddings")
    rows = ModelCall.objects.filter(purpose="ingest")
    assert len(requests) >= 2  # batches of two chunks
    assert rows.count() == len(requests)
    assert sum(row.input_tokens for row in rows) == embedding_tokens(requests)
    assert {(r.provider, r.model, r.status, r.tokens_estimated) for r in rows} == {
        ("openai", "harbour-embedder", "ok", False)
    }
    assert {(r.document_id, r.project_id, r.user_id) for r in rows} == {
        (document.pk, project.pk, member.pk)
    }


def test_a_search_records_its_query_embedding(client_for, member, embeddings):
    project = create_project(owner=member)
    ingest(project, TIDES, "tides.txt")
    before = len(embeddings.requests_to("/embeddings"))
    response = client_for(member).post(
        "/api/v1/search", {"query": "high tide north pier", "mode": "hybrid"}, format="json"
    )
    assert response.status_code == 200
    (request,) = embeddings.requests_to("/embeddings")[before:]
    row = ModelCall.objects.get(purpose="query_embedding")
    assert (row.provider, row.status, row.user_id) == ("openai", "ok", member.pk)
    assert row.input_tokens == embedding_tokens([request])


def test_a_failed_model_call_is_recorded_as_an_error(client_for, member, conversation, llm):
    llm.fail_next(500, times=2)  # the first attempt and its one retry
    response = ask(client_for(member), conversation)
    assert response.status_code == 502
    row = ModelCall.objects.get(purpose="answer")
    assert (row.status, row.input_tokens, row.output_tokens) == ("error", 0, 0)


def test_a_title_is_recorded(member, conversation, llm):
    chat.message_ask(conversation=conversation, user=member, content=QUESTION)
    chat.conversation_generate_title(conversation_id=conversation.pk)
    (request,) = llm.requests_to("/chat/completions")
    row = ModelCall.objects.get(purpose="title")
    assert row.input_tokens == prompt_tokens(request)
    assert (row.user_id, row.conversation_id) == (member.pk, conversation.pk)


def test_prices_from_settings_give_the_cost(client_for, member, conversation, llm, settings):
    settings.USAGE_PRICES = {"harbour-model": {"input": "2", "output": "10"}}  # per 1,000
    assert ask(client_for(member), conversation).status_code == 201
    row = ModelCall.objects.get(purpose="answer")
    expected = (2 * row.input_tokens + 10 * row.output_tokens) / 1000
    assert float(row.cost) == pytest.approx(expected)


def test_a_failed_ledger_write_does_not_fail_the_request(
    client_for, member, conversation, llm, caplog
):
    with connection.cursor() as cursor:  # the database now refuses every ledger row
        cursor.execute(
            "ALTER TABLE usage_modelcall ADD CONSTRAINT refuse_all CHECK (false) NOT VALID"
        )
    with caplog.at_level(logging.ERROR, logger="launch.ai.metering"):
        response = ask(client_for(member), conversation)
    assert response.status_code == 201, response.content
    assert response.json()["content"] == llm.chat_reply
    assert ModelCall.objects.count() == 0
    assert "could not record" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_streamed_answer_records_the_servers_counts(member, conversation, llm):
    response = open_stream(member, conversation)
    assert list(events(response.streaming_content))[-1][0] == "done"
    (request,) = llm.requests_to("/chat/completions")
    row = ModelCall.objects.get(purpose="stream_answer")
    assert (row.status, row.tokens_estimated) == ("ok", False)
    assert row.input_tokens == prompt_tokens(request)
    assert row.output_tokens == words(llm.chat_reply)


@pytest.mark.django_db(transaction=True)
def test_a_stream_the_client_leaves_is_recorded_cancelled_with_the_tokens_so_far(
    member, conversation, llm
):
    llm.stream_delay = 0.05
    llm.chat_reply = "word " * 60
    response = open_stream(member, conversation)
    stream = events(response.streaming_content)
    assert [next(stream)[0], next(stream)[0]] == ["references", "delta"]
    response.close()  # what a WSGI server does when the client hangs up
    saved = ChatMessage.objects.get(conversation=conversation, role="assistant")
    row = ModelCall.objects.get(purpose="stream_answer")
    assert (row.status, row.tokens_estimated) == ("cancelled", True)
    # Estimated from the text the client received, as the saved message counts it.
    assert row.output_tokens == estimate_tokens(saved.content) == saved.completion_tokens
    assert row.output_tokens > 0
    assert len(saved.content) < len(llm.chat_reply)


def test_a_call_made_for_an_api_key_names_the_key(member, embeddings, key_client):
    project = create_project(owner=member)
    ingest(project, TIDES, "tides.txt")
    key, raw = apikey_create(user=member, name="script", scopes=["projects.view_project"])
    response = key_client(raw).post(
        "/api/v1/search", {"query": "north pier", "mode": "hybrid"}, format="json"
    )
    assert response.status_code == 200, response.content
    row = ModelCall.objects.get(purpose="query_embedding")
    assert (row.api_key_id, row.user_id) == (key.pk, member.pk)
