"""Streamed answers under WSGI, the shipped server's interface (docker/gunicorn.conf.py):
the body is a plain generator, read lazily, that holds no database connection while the
model answers. Django's test client is a WSGI handler, so these run the WSGI path;
`transaction=True` because the view closes its connection only outside a transaction,
as in production."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from apps.chat.models import ChatMessage
from tests.chat.conftest import conversation_url
from tests.conftest import bearer

pytestmark = pytest.mark.django_db(transaction=True)

REPLY = "High tide follows the harbour by two hours [1]."


def open_stream(user, conversation) -> Any:
    client = Client(HTTP_AUTHORIZATION=bearer(user))
    return client.post(
        conversation_url(conversation, "/messages/stream"),
        data={"content": "When is high tide?"},
        content_type="application/json",
    )


def events(chunks: Iterator[bytes]) -> Iterator[tuple[str, Any]]:
    for chunk in chunks:
        for block in chunk.decode().strip().split("\n\n"):
            lines = dict(line.split(": ", 1) for line in block.splitlines())
            yield lines["event"], json.loads(lines["data"])


def test_the_body_is_a_lazy_generator_with_references_deltas_then_done(
    member, conversation, tides, llm
):
    response = open_stream(member, conversation)
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/event-stream")
    received = list(events(response.streaming_content))
    names = [name for name, _ in received]
    assert names[0] == "references"
    assert set(names[1:-1]) == {"delta"}
    assert names[-1] == "done"
    assert "".join(data["text"] for name, data in received if name == "delta") == REPLY
    saved = ChatMessage.objects.get(pk=received[-1][1]["id"])
    assert (saved.role, saved.content, saved.incomplete) == ("assistant", REPLY, False)


def test_no_database_connection_is_held_while_the_model_answers(member, conversation, llm):
    llm.stream_delay = 0.02
    llm.chat_reply = "word " * 20
    response = open_stream(member, conversation)
    stream = events(response.streaming_content)
    assert next(stream)[0] == "references"
    assert next(stream)[0] == "delta"
    # Mid-answer, in the thread that serves the stream: the view handed its connection
    # back before the body started, and nothing has opened one since.
    assert connection.connection is None
    rest = [name for name, _ in stream]
    assert rest[-1] == "done"


def test_a_client_that_hangs_up_leaves_an_incomplete_message(member, conversation, llm):
    llm.stream_delay = 0.05
    llm.chat_reply = "word " * 60
    response = open_stream(member, conversation)
    stream = events(response.streaming_content)
    assert [next(stream)[0], next(stream)[0]] == ["references", "delta"]
    # What a WSGI server does after a failed write to a closed socket.
    response.close()
    answer = ChatMessage.objects.get(conversation=conversation, role="assistant")
    assert answer.incomplete is True
    assert answer.content.startswith("word")
    assert len(answer.content) < len(llm.chat_reply)


def test_a_model_failing_mid_answer_ends_with_an_error_event_and_nothing_saved(
    member, conversation, llm
):
    llm.stream_delay = 0.05
    llm.chat_reply = "word " * 60
    response = open_stream(member, conversation)
    stream = events(response.streaming_content)
    assert [next(stream)[0], next(stream)[0]] == ["references", "delta"]
    llm.stop()  # the model server hangs up mid-answer
    rest = list(stream)
    assert rest[-1] == (
        "error",
        {"status": 502, "detail": "The language model failed to answer. Try again later."},
    )
    roles = ChatMessage.objects.filter(conversation=conversation).values_list("role", flat=True)
    assert list(roles) == ["user"]
