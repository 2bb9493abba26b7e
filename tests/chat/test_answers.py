"""Asking questions: retrieval, the prompt the model gets, and the saved answer."""

from __future__ import annotations

import pytest

from apps.chat.models import ChatMessage, DocumentReference
from launch.vector_store.models import VectorRecord
from tests.chat.conftest import SECRET, conversation_url, create_project, ingest, start
from tests.factories import share_in_team

pytestmark = pytest.mark.django_db

QUESTION = "When is high tide at the north pier?"


def ask(client, conversation, content=QUESTION, **extra):
    return client.post(conversation_url(conversation, "/messages"), {"content": content, **extra})


@pytest.mark.usefixtures("tides")
def test_the_prompt_holds_the_question_once_with_the_projects_system_prompt(
    client_for, member, conversation, prompt_of
):
    response = ask(client_for(member), conversation)
    assert response.status_code == 201, response.json()
    messages = prompt_of()
    assert messages[0]["role"] == "system"
    assert messages[0]["content"].startswith("You are the harbour's archivist.")
    assert '<source id="1" origin="tides.txt">' in messages[0]["content"]
    assert messages[-1] == {"role": "user", "content": QUESTION}
    assert sum(m["content"].count(QUESTION) for m in messages) == 1


@pytest.mark.usefixtures("tides")
def test_history_is_sent_before_the_new_question(client_for, member, conversation, prompt_of):
    client = client_for(member)
    ask(client, conversation, "First question about tides?")
    ask(client, conversation)
    roles = [m["role"] for m in prompt_of()]
    assert roles == ["system", "user", "assistant", "user"]
    assert prompt_of()[1]["content"] == "First question about tides?"


def test_the_answer_stores_references_to_real_chunks_and_provenance(
    client_for, member, conversation, tides, llm
):
    body = ask(client_for(member), conversation).json()
    assert body["role"] == "assistant"
    assert body["content"] == "High tide follows the harbour by two hours [1]."
    assert body["model"] == "harbour-model"
    assert body["prompt_tokens"] > 0
    assert body["completion_tokens"] == 9  # the server counts words
    assert body["latency_ms"] >= 0
    assert body["incomplete"] is False
    reference = body["document_references"][0]
    assert reference["document_id"] == str(tides.pk)
    assert reference["filename"] == "tides.txt"
    assert reference["citation"] == 1
    chunk = VectorRecord.objects.get(pk=reference["chunk_id"])
    assert chunk.source_id == tides.pk
    assert reference["content_snippet"] == chunk.content
    assert reference["relevance_score"] > 0


@pytest.mark.promise(2)
def test_only_passages_of_projects_the_user_may_view_reach_the_model(
    client_for, member, stranger, tides, prompt_of
):
    hidden = create_project(owner=stranger)
    ingest(hidden, SECRET, "vault.txt")
    conversation = start(member)  # no project: nothing of anyone's is retrieved
    ask(client_for(member), conversation, "What is the tide museum vault combination?")
    assert "vault" not in prompt_of()[0]["content"]

    mine = start(member, tides.project)
    ask(client_for(member), mine, "What is the tide museum vault combination?")
    system = prompt_of()[0]["content"]
    assert "tides.txt" in system
    assert "night porter" not in system


@pytest.mark.promise(2)
def test_a_revoked_share_retrieves_nothing_on_the_next_message(
    client_for, stranger, tides, prompt_of
):
    share_in_team(tides.project, stranger, ["view"])
    conversation = start(stranger, tides.project)
    client = client_for(stranger)
    first = ask(client, conversation).json()
    assert first["document_references"]
    assert "tides.txt" in prompt_of()[0]["content"]

    share_in_team(tides.project, stranger, [])
    second = ask(client, conversation)
    assert second.status_code == 201
    assert second.json()["document_references"] == []
    system = prompt_of()[0]["content"]
    assert "tides.txt" not in system
    assert "archivist" not in system  # the project's system prompt went with the share


@pytest.mark.usefixtures("tides", "llm")
def test_document_ids_narrow_retrieval(client_for, member, conversation, clocks):
    body = ask(client_for(member), conversation, "clocks and tides", document_ids=[str(clocks.pk)])
    assert {r["document_id"] for r in body.json()["document_references"]} == {str(clocks.pk)}


def test_document_ids_outside_the_project_are_a_422_and_nothing_is_saved(
    client_for, member, stranger, conversation, tides
):
    other = ingest(create_project(owner=stranger), SECRET, "vault.txt")
    response = ask(client_for(member), conversation, document_ids=[str(other.pk)])
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "document_ids"]
    assert not ChatMessage.objects.filter(conversation=conversation).exists()


def test_use_documents_false_retrieves_nothing(client_for, member, conversation, tides, llm):
    body = ask(client_for(member), conversation, use_documents=False).json()
    assert body["document_references"] == []
    assert body["use_documents"] is False


@pytest.mark.parametrize("role", ["system", "assistant", "tool"])
def test_a_client_cannot_send_another_role(client_for, member, conversation, role):
    response = ask(client_for(member), conversation, role=role)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "role"]
    assert not ChatMessage.objects.exists()


def test_role_user_is_accepted_as_upstream_sends_it(client_for, member, conversation):
    assert ask(client_for(member), conversation, role="user").status_code == 201


def test_blank_content_is_a_422(client_for, member, conversation):
    assert ask(client_for(member), conversation, content="   ").status_code == 422


def test_extractive_answers_with_citations_without_any_network(
    client_for, member, conversation, tides, monkeypatch
):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the extractive provider must not open a socket")

    monkeypatch.setattr(socket, "create_connection", refuse)
    body = ask(client_for(member), conversation).json()
    assert body["model"] == "extractive"
    assert "not generated" in body["content"]
    assert '[1] "The lighthouse keeper records the tide tables' in body["content"]
    assert "(tides.txt)" in body["content"]
    assert body["document_references"][0]["document_id"] == str(tides.pk)


def test_detail_lists_messages_with_their_references(client_for, member, conversation, tides):
    ask(client_for(member), conversation)
    body = client_for(member).get(conversation_url(conversation, "/detail")).json()
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]
    assert body["messages"][1]["document_references"][0]["filename"] == "tides.txt"
    assert DocumentReference.objects.count() == len(body["messages"][1]["document_references"])


def test_capacity_counts_the_conversations_tokens(client_for, member, conversation, tides, llm):
    before = client_for(member).get(f"/api/v1/projects/{tides.project_id}/capacity").json()
    ask(client_for(member), conversation)
    after = client_for(member).get(f"/api/v1/projects/{tides.project_id}/capacity").json()
    stored = sum(m.estimated_tokens for m in ChatMessage.objects.filter(conversation=conversation))
    assert stored > 0
    assert after["conversations_tokens"] - before["conversations_tokens"] == stored


def test_a_citation_of_a_pdf_names_its_page_as_an_integer(client_for, member, project, settings):
    from django.core.files.base import ContentFile

    from apps.projects import services as projects
    from tests.support.documents import make_pdf

    settings.CHUNK_SIZE, settings.CHUNK_OVERLAP = 200, 0
    filler = " Nothing else of note is written on this page of the harbour guide." * 2
    pages = [
        "Opening hours are posted at the gate every spring." + filler,
        "The lighthouse keeper records the tide tables every morning at six." + filler,
        "Fishing permits are sold at the office on weekdays." + filler,
    ]
    document = projects.document_upload(
        user=member,
        project=project,
        upload=ContentFile(make_pdf(pages), name="harbour.pdf"),
        filename="harbour.pdf",
        document_type=None,
        enqueue=False,
    )
    projects.document_ingest(document_id=document.pk)
    conversation = start(member, project)
    body = ask(client_for(member), conversation, "Who records the tide tables?").json()
    reference = body["document_references"][0]
    assert reference["filename"] == "harbour.pdf"
    assert reference["page_number"] == 2
    assert isinstance(reference["page_number"], int)


def test_a_citation_of_a_text_without_pages_has_no_page_number(
    client_for, member, conversation, tides
):
    reference = ask(client_for(member), conversation).json()["document_references"][0]
    assert reference["filename"] == "tides.txt"
    assert reference["page_number"] is None
