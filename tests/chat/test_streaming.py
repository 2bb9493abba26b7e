"""Streamed answers under ASGI (config/asgi.py): event order, mid-stream failure, and a
client that hangs up. The ASGI app runs its sync code in its own threads, hence
`transaction=True` (the rows must be committed to be seen there)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from asgiref.sync import async_to_sync

from apps.chat.models import ChatMessage
from config.asgi import application as django_application
from tests.chat.conftest import conversation_url
from tests.conftest import bearer

pytestmark = pytest.mark.django_db(transaction=True)

# httpx and hand-written ASGI callables are typed more loosely than Django's handler.
application: Any = django_application

REPLY = "High tide follows the harbour by two hours [1]."


def parse(body: str) -> list[tuple[str, Any]]:
    events = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


async def _stream(authorization: str, conversation, content: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post(
            conversation_url(conversation, "/messages/stream"),
            json={"content": content},
            headers={"Authorization": authorization},
        )


def stream(user, conversation, content: str = "When is high tide?") -> httpx.Response:
    # Tokens are minted here: issuing one writes a row, which async code may not do.
    return async_to_sync(_stream)(bearer(user), conversation, content)


def test_events_are_references_then_deltas_then_done(member, conversation, tides, llm):
    response = stream(member, conversation)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse(response.text)
    names = [name for name, _ in events]
    assert names[0] == "references"
    assert names[-1] == "done"
    assert set(names[1:-1]) == {"delta"}
    assert len(names) > 3
    assert "".join(data["text"] for name, data in events if name == "delta") == REPLY
    references = events[0][1]
    assert references[0]["document_id"] == str(tides.pk)
    done = events[-1][1]
    saved = ChatMessage.objects.get(pk=done["id"])
    assert (saved.role, saved.content, saved.incomplete) == ("assistant", REPLY, False)
    assert saved.completion_tokens == 9
    assert saved.model == "harbour-model"
    assert [r["chunk_id"] for r in done["document_references"]] == [
        r["chunk_id"] for r in references
    ]


def test_extractive_streams_quotes_with_citations(member, conversation, tides):
    events = parse(stream(member, conversation).text)
    text = "".join(data["text"] for name, data in events if name == "delta")
    assert "[1]" in text
    assert events[-1][1]["model"] == "extractive"


def test_a_model_failing_mid_answer_ends_with_an_error_event_and_nothing_saved(
    member, conversation, llm
):
    llm.stream_delay = 0.05
    llm.chat_reply = "word " * 60

    async def stop_the_model() -> None:
        await asyncio.to_thread(llm.stop)  # the server hangs up mid-stream

    body = async_to_sync(drive)(bearer(member), conversation, stop_the_model)
    events = parse(body)
    assert [name for name, _ in events][:2] == ["references", "delta"]
    assert events[-1] == (
        "error",
        {"status": 502, "detail": "The language model failed to answer. Try again later."},
    )
    roles = ChatMessage.objects.filter(conversation=conversation).values_list("role", flat=True)
    assert list(roles) == ["user"]


def test_a_client_that_disconnects_leaves_an_incomplete_message(member, conversation, llm):
    llm.stream_delay = 0.05
    llm.chat_reply = "word " * 60
    hang_up = asyncio.Event()

    async def disconnect() -> None:
        hang_up.set()

    async_to_sync(drive)(bearer(member), conversation, disconnect, hang_up)
    answer = ChatMessage.objects.get(conversation=conversation, role="assistant")
    assert answer.incomplete is True
    assert answer.content.startswith("word")
    assert len(answer.content) < len(llm.chat_reply)


async def drive(
    authorization: str,
    conversation,
    on_first_delta: Callable[[], Awaitable[None]],
    hang_up: asyncio.Event | None = None,
) -> str:
    """Drive the ASGI app by hand, calling `on_first_delta` once a `delta` event is out;
    the client disconnects when `hang_up` is set. Returns the body received."""
    request = json.dumps({"content": "Tell me everything."}).encode()
    chunks: list[bytes] = []
    sent_request = False
    waiting = hang_up or asyncio.Event()

    async def receive() -> dict[str, Any]:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": request, "more_body": False}
        await waiting.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] != "http.response.body":
            return
        first = not any(b"event: delta" in chunk for chunk in chunks)
        chunks.append(message.get("body", b""))
        if first and b"event: delta" in chunks[-1]:
            await on_first_delta()

    path = conversation_url(conversation, "/messages/stream")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(request)).encode()),
            (b"authorization", authorization.encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await application(scope, receive, send)
    return b"".join(chunks).decode()
