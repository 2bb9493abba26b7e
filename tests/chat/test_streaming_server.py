"""The shipped server (`docker/entrypoint.sh serve`, i.e. docker/gunicorn.conf.py) keeps
answering while chat streams are open: streams stalled mid-answer hold their threads, and
a request arriving meanwhile is served by another. Runs the real gunicorn on loopback
against the test database, with the model server stalled on purpose (no timing)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from apps.chat.models import ChatMessage
from tests.chat.conftest import conversation_url, start
from tests.conftest import bearer
from tests.support.llm_server import LLMServer
from tests.support.shipped_server import shipped_server as serve

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
THREADS = 4
STREAMS = THREADS - 1  # every thread but one held by a stream


class HeldLLMServer(LLMServer):
    """Streams the first word of each answer, then holds every stream until `release`."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(stream_delay=0.001, **kwargs)  # type: ignore[arg-type]
        self.release = threading.Event()
        self._pauses = threading.local()

    def _sleep(self, seconds: float) -> bool:
        count = getattr(self._pauses, "count", 0) + 1
        self._pauses.count = count
        if count == 2:  # after the role chunk and the first word
            self.release.wait(timeout=60)
        return not self._stopping.is_set()


@pytest.fixture
def held_llm() -> Iterator[HeldLLMServer]:
    server = HeldLLMServer(chat_reply="word " * 10)
    with server:
        yield server
        server.release.set()


@pytest.fixture
def shipped_server(held_llm: HeldLLMServer) -> Iterator[str]:
    with serve(
        WEB_CONCURRENCY="1",
        WEB_THREADS=str(THREADS),
        LLM_PROVIDER="openai",
        LLM_BASE_URL=held_llm.url,
        LLM_MODEL="held-model",
    ) as base:
        try:
            yield base
        finally:
            held_llm.release.set()  # the held streams end, so the server stops at once


def test_a_request_is_served_while_streams_hold_all_but_one_thread(
    member, held_llm, shipped_server
):
    authorization = {"Authorization": bearer(member)}
    conversations = [start(member) for _ in range(STREAMS)]
    opened = threading.Barrier(STREAMS + 1, timeout=30)
    endings: list[str] = []

    def stream(conversation) -> None:
        url = shipped_server + conversation_url(conversation, "/messages/stream")
        with httpx.stream(
            "POST", url, json={"content": "Tell me."}, headers=authorization, timeout=60
        ) as answer:
            names = []
            for line in answer.iter_lines():
                if line.startswith("event: "):
                    names.append(line[7:])
                    if names == ["references", "delta"]:
                        opened.wait()  # this stream is now held mid-answer
            endings.append(names[-1])

    threads = [threading.Thread(target=stream, args=(c,)) for c in conversations]
    for thread in threads:
        thread.start()
    opened.wait()  # every stream has started and is held by the model

    me = httpx.get(f"{shipped_server}/api/v1/users/me", headers=authorization, timeout=30)
    assert me.status_code == 200
    assert me.json()["email"] == member.email
    assert endings == []  # the streams were all still open when /users/me answered

    listed = httpx.get(f"{shipped_server}/api/v1/chat/conversations", headers=authorization)
    assert listed.status_code == 200
    assert endings == []

    # Let the model finish every answer: all streams end with `done`, answers saved.
    held_llm.release.set()
    for thread in threads:
        thread.join(timeout=60)
    assert endings == ["done"] * STREAMS
    assert ChatMessage.objects.filter(role="assistant", incomplete=False).count() == STREAMS
