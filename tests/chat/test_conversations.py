"""Conversation routes: shapes, bare-array lists, titles by hand and by task."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.chat import services
from apps.chat.models import ChatConversation
from apps.chat.tasks import conversation_generate_title
from tests.chat.conftest import conversation_url, start

pytestmark = pytest.mark.django_db

URL = "/api/v1/chat/conversations"


def test_create_returns_the_upstream_shape(client_for, member, project):
    response = client_for(member).post(URL + "/", {"title": "Tides", "project_id": str(project.pk)})
    assert response.status_code == 201
    body = response.json()
    assert body["user_id"] == str(member.pk)
    assert body["use_documents"] is True
    assert body["auto_generated_title"] is False
    assert body["title_generation_task_id"] is None
    assert set(body) >= {"id", "title", "project_id", "created_at", "updated_at"}


def test_lists_are_bare_arrays_bounded_by_skip_and_limit(client_for, member):
    made = [start(member) for _ in range(3)]
    client = client_for(member)
    assert len(client.get(URL).json()) == 3
    page = client.get(URL, {"skip": 1, "limit": 1}).json()
    assert isinstance(page, list)
    assert [row["id"] for row in page] == [str(made[1].pk)]  # newest activity first
    assert client.get(URL, {"limit": 0}).status_code == 422


def test_title_by_query_parameter_or_body_marks_it_hand_set(client_for, member, conversation):
    client = client_for(member)
    response = client.patch(conversation_url(conversation, "/title") + "?title=By%20query")
    assert response.json()["title"] == "By query"
    response = client.patch(conversation_url(conversation, "/title/"), {"title": "By body"})
    assert response.json()["title"] == "By body"
    conversation.refresh_from_db()
    assert conversation.title_set_by_user is True
    assert client.patch(conversation_url(conversation, "/title"), {"title": ""}).status_code == 422


@pytest.mark.parametrize("body", ["0.2", "[]", '"a title"'])
def test_a_title_body_that_is_not_an_object_is_a_422(client_for, member, conversation, body):
    """Found by schema fuzzing: `0.2` as the body was a 500."""
    response = client_for(member).patch(
        conversation_url(conversation, "/title/"), body, content_type="application/json"
    )
    assert response.status_code == 422
    assert "detail" in response.json()
    conversation.refresh_from_db()
    assert conversation.title_set_by_user is False


def test_delete_answers_a_message_and_removes_the_messages(client_for, member, conversation):
    client = client_for(member)
    client.post(conversation_url(conversation, "/messages"), {"content": "Hello"})
    response = client.delete(conversation_url(conversation))
    assert response.json() == {"message": "Conversation deleted successfully"}
    assert not ChatConversation.objects.filter(pk=conversation.pk).exists()


def test_generate_title_queues_the_task_and_returns_its_id(
    client_for, member, conversation, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(member).post(conversation_url(conversation, "/generate-title"))
    assert response.status_code == 200
    task_id = response.json()["title_generation_task_id"]
    assert task_id
    assert len(callbacks) == 1
    conversation.refresh_from_db()
    assert conversation.title_generation_task_id == task_id


def test_the_extractive_title_is_the_first_question_shortened(client_for, member, conversation):
    question = "When is high tide at the north pier during the spring equinox, roughly speaking?"
    client_for(member).post(conversation_url(conversation, "/messages"), {"content": question})
    title = conversation_generate_title(str(conversation.pk))
    conversation.refresh_from_db()
    assert conversation.title == title
    assert title.startswith("When is high tide at the north pier")
    assert len(title) <= services.conversations.TITLE_MAX_CHARS
    assert conversation.auto_generated_title is True


def test_the_openai_title_comes_from_the_model(client_for, member, conversation, llm):
    client_for(member).post(conversation_url(conversation, "/messages"), {"content": "Tides?"})
    llm.chat_reply = "Harbour tide timing\n"
    assert conversation_generate_title(str(conversation.pk)) == "Harbour tide timing"
    request = llm.requests_to("/chat/completions")[-1].body
    assert "title" in request["messages"][0]["content"]
    assert "user: Tides?" in request["messages"][1]["content"]


def test_a_title_set_by_hand_is_never_overwritten(client_for, member, conversation):
    client = client_for(member)
    client.post(conversation_url(conversation, "/messages"), {"content": "Tides?"})
    client.patch(conversation_url(conversation, "/title"), {"title": "Mine"})
    assert conversation_generate_title(str(conversation.pk)) is None
    conversation.refresh_from_db()
    assert (conversation.title, conversation.auto_generated_title) == ("Mine", False)


def test_the_task_returns_quietly_for_a_missing_or_empty_conversation(member):
    assert conversation_generate_title("00000000-0000-0000-0000-000000000000") is None
    assert conversation_generate_title(str(start(member).pk)) is None


def test_conversations_carry_their_messages_in_lists_as_upstream(
    client_for, member, project, tides
):
    """Upstream's ChatConversationPublic has `messages`, in lists too: a front end may
    read `conversation.messages` from any of them. Prefetched: the query count does not
    grow with the number of conversations."""
    client = client_for(member)

    def listed_with_queries() -> tuple[list, int]:
        with CaptureQueriesContext(connection) as queries:
            body = client.get("/api/v1/chat/conversations").json()
        return body, len(queries)

    conversation = start(member, project)
    client.post(conversation_url(conversation, "/messages"), {"content": "Tides?"})
    _, queries_for_one = listed_with_queries()
    for _ in range(2):
        conversation = start(member, project)
        client.post(conversation_url(conversation, "/messages"), {"content": "Tides?"})
    listed, queries_for_three = listed_with_queries()
    assert queries_for_three == queries_for_one
    assert len(listed) == 3
    for item in listed:
        assert [m["role"] for m in item["messages"]] == ["user", "assistant"]
        assert item["messages"][1]["document_references"]
    by_project = client.get(f"/api/v1/chat/conversations/{project.pk}").json()
    assert {len(item["messages"]) for item in by_project} == {2}


def test_create_rename_and_generate_title_answer_the_full_conversation(
    client_for, member, conversation
):
    client = client_for(member)
    renamed = client.patch(conversation_url(conversation, "/title") + "?title=Renamed").json()
    assert renamed["title"] == "Renamed"
    assert renamed["messages"] == []
    titled = client.post(conversation_url(conversation, "/generate-title")).json()
    assert titled["message"] == "Title generation started"
    assert titled["id"] == str(conversation.pk)
    assert "messages" in titled


def test_a_title_renamed_in_the_admin_is_hand_set_as_through_the_api(superuser, conversation):
    from django.test import Client

    staff = Client()
    staff.force_login(superuser)
    response = staff.post(
        f"/admin/chat/chatconversation/{conversation.pk}/change/",
        {"title": "Named by staff", "messages-TOTAL_FORMS": 0, "messages-INITIAL_FORMS": 0},
    )
    assert response.status_code == 302, response.content
    conversation.refresh_from_db()
    assert (conversation.title, conversation.title_set_by_user) == ("Named by staff", True)


def test_the_admin_neither_adds_nor_deletes_a_single_message(superuser, conversation):
    """As in the API: messages are the conversation's record; staff delete a whole
    conversation, through its service."""
    from django.test import Client

    from apps.chat.models import ChatMessage

    message = ChatMessage.objects.create(conversation=conversation, role="user", content="hi")
    staff = Client()
    staff.force_login(superuser)
    assert staff.get("/admin/chat/chatmessage/add/").status_code == 403
    deleting = staff.post(f"/admin/chat/chatmessage/{message.pk}/delete/", {"post": "yes"})
    assert deleting.status_code == 403
    assert ChatMessage.objects.filter(pk=message.pk).exists()
