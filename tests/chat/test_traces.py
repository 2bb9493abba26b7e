"""The RAG debugger: every answer's trace, its admin page, the replay and the staff API."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from apps.chat.models import AnswerTrace, ChatMessage
from apps.chat.services.traces import trace_replay
from launch.vector_store.models import VectorRecord
from launch.vector_store.services.rollout import rollout_build_scope, rollout_start
from tests.chat.conftest import conversation_url, ingest, start
from tests.vector_store.test_rollout import to_dimensions

pytestmark = pytest.mark.django_db

QUESTION = "When is high tide at the north pier?"


def ask(client, conversation, content=QUESTION):
    response = client.post(conversation_url(conversation, "/messages"), {"content": content})
    assert response.status_code == 201, response.json()
    return ChatMessage.objects.get(pk=response.json()["id"])


def trace_url(message) -> str:
    return f"/api/v1/chat/messages/{message.pk}/trace"


@pytest.fixture
def documents(tides, clocks):
    return tides, clocks


@pytest.fixture
def answer(client_for, member, conversation, documents, llm):
    return ask(client_for(member), conversation)


def test_every_answer_keeps_its_trace(answer, tides, clocks, project):
    data = AnswerTrace.objects.get(message=answer).data
    retrieval = data["retrieval"]

    assert data["question"] == QUESTION
    assert (retrieval["query"], retrieval["mode"], retrieval["strategy"]) == (
        QUESTION,
        "hybrid",
        "exact",  # a two-document project is ranked exactly, not through HNSW
    )
    assert retrieval["embedding_version"] == "hashing-v1-384"
    assert retrieval["scopes"] == [str(project.pk)]
    candidates = retrieval["candidates"]
    assert [c["rank"] for c in candidates] == list(range(1, len(candidates) + 1))
    best = candidates[0]
    assert best["document_id"] == str(tides.pk)
    # Both lists' ranks and scores, and the fused score the order follows.
    assert best["semantic_rank"] == 1
    assert best["keyword_rank"] == 1
    assert best["semantic_score"] > 0
    assert best["keyword_score"] > 0
    assert best["score"] == pytest.approx(2 / 61)
    assert best["sent"] is True
    assert best["citation"] == 1
    assert [s["document_id"] for s in data["sent"]] == [
        c["document_id"] for c in candidates if c["sent"]
    ]
    assert "lighthouse keeper" in data["sent"][0]["content"]
    assert data["model"] == "harbour-model"
    assert data["prompt_tokens"] == answer.prompt_tokens
    assert data["completion_tokens"] == answer.completion_tokens
    assert {"retrieval", "retrieval_embed", "retrieval_query", "prompt", "generation"} <= set(
        data["timings_ms"]
    )


def test_an_answer_without_documents_records_no_retrieval(client_for, member, project, llm):
    conversation = start(member, project, use_documents=False)
    message = ask(client_for(member), conversation)
    data = AnswerTrace.objects.get(message=message).data
    assert "retrieval" not in data
    assert data["sent"] == []


def test_traces_never_reach_the_normal_api(client_for, member, conversation, answer):
    body = client_for(member).get(conversation_url(conversation, "/detail")).content.decode()
    assert "trace" not in body
    assert "semantic_rank" not in body


def test_the_trace_api_is_for_staff_only(client_for, member, make_user, answer, superuser):
    assert APIClient().get(trace_url(answer)).status_code == 401
    assert client_for(member).get(trace_url(answer)).json() == {
        "detail": "You do not have permission to perform this action."
    }
    assert client_for(member).get(trace_url(answer)).status_code == 403

    assert client_for(superuser).get(trace_url(answer)).status_code == 404  # another team
    team = {"X-Team-ID": str(answer.conversation.team_id)}
    response = client_for(superuser).get(trace_url(answer), headers=team)
    assert response.status_code == 200
    assert response.json()["message_id"] == str(answer.pk)
    assert response.json()["data"]["retrieval"]["candidates"]

    # Staff without a grant on the conversation: as if it did not exist.
    staff = make_user(is_staff=True)
    assert client_for(staff).get(trace_url(answer)).status_code == 404
    user_message = ChatMessage.objects.filter(role="user").first()
    assert client_for(superuser).get(trace_url(user_message)).status_code == 404


def test_staff_see_the_trace_laid_out_in_the_admin(client, superuser, answer):
    client.force_login(superuser)
    page = client.get(reverse("admin:chat_chatmessage_change", args=[answer.pk])).content.decode()
    assert "Replay this retrieval now" in page
    assert "semantic rank" in page
    assert "<code>hashing-v1-384</code>" in page
    assert "tides.txt" in page


def test_replay_shows_nothing_changed_then_the_difference_after_changes(
    client, superuser, answer, project
):
    trace = AnswerTrace.objects.get(message=answer)
    same = trace_replay(trace=trace)
    assert same["unchanged"] is True
    assert same["embedding_version"]["now"] == "hashing-v1-384"

    # A better match arrives and the project moves to another model.
    ingest(project, "High tide at the north pier: two hours after the harbour.", "pier.txt")
    new = rollout_start(config=to_dimensions(64), enqueue=False)
    rollout_build_scope(version_id=new.pk, scope_id=project.pk)
    assert VectorRecord.objects.filter(version=new).exists()

    changed = trace_replay(trace=trace)
    assert changed["unchanged"] is False
    assert changed["embedding_version"] == {"then": "hashing-v1-384", "now": "hashing-v1-64"}
    now = {c["filename"]: c for c in changed["candidates"]}
    assert now["pier.txt"]["change"] == "new"
    assert now["pier.txt"]["rank"] <= 2  # it ties with tides.txt or beats it
    assert now["tides.txt"]["old_rank"] == 1

    client.force_login(superuser)
    page = client.get(reverse("admin:chat_chatmessage_replay", args=[answer.pk]))
    assert page.status_code == 200
    assert "pier.txt" in page.content.decode()
    assert "(changed)" in page.content.decode()


def test_the_replay_page_is_a_404_for_a_message_without_trace(client, superuser, conversation):
    question = ChatMessage.objects.create(conversation=conversation, role="user", content="hi")
    client.force_login(superuser)
    page = client.get(reverse("admin:chat_chatmessage_replay", args=[question.pk]))
    assert page.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_streamed_answer_keeps_its_trace_too(member, conversation, tides, llm):
    from tests.chat.test_streaming import parse, stream

    done = parse(stream(member, conversation).text)[-1][1]

    data = AnswerTrace.objects.get(message_id=done["id"]).data
    assert data["retrieval"]["candidates"][0]["document_id"] == str(tides.pk)
    assert (data["model"], data["completion_tokens"]) == ("harbour-model", 9)
    assert data["tokens_estimated"] is False
    assert "trace" not in done  # the streamed message carries no trace either
