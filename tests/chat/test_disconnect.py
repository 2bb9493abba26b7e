"""A streamed question whose client leaves mid-retrieval has its query cancelled.

Launch runs as a real ASGI server (uvicorn, config.asgi) with no statement timeout at
all, and the test holds a lock on the vector table, so the retrieval query waits for as
long as the lock is held. The client sends its question and closes the socket: the only
thing that can then end the waiting query, with the lock still held, is the cancel that
the disconnect triggers. Nothing is asked of the model, and no answer is saved.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
import requests

from apps.chat import services as chat
from apps.chat.models import ChatMessage
from tests.conftest import bearer
from tests.factories import make_member, roles
from tests.projects.conftest import create_project, ingest
from tests.support.processes import database_url
from tests.support.servers import LaunchServer

__all__ = ["make_member", "roles"]

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WAITING_ON_THE_LOCK = """
SELECT pid FROM pg_stat_activity
WHERE datname = current_database()
  AND state = 'active' AND wait_event_type = 'Lock'
  AND query LIKE '%%vector_store_vectorrecord%%'
"""


def eventually(condition: Callable[[], Any], *, what: str, limit: float = 60) -> Any:
    """Poll until `condition()` is truthy; fail naming `what` after `limit` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail(f"gave up waiting: {what}")


@pytest.fixture
def server() -> Iterator[LaunchServer]:
    # No statement timeout: a query that ends while the lock is held was cancelled.
    with LaunchServer(extra_env={"DB_STATEMENT_TIMEOUT_MS": "0"}) as running:
        yield running


@pytest.fixture
def conversation(make_member):
    owner = make_member()
    project = create_project(owner=owner)
    ingest(project=project)
    conversation = chat.conversation_create(
        user=owner, title="Tides", use_documents=True, project_id=project.pk
    )
    return owner, conversation


def post_and_leave(
    server: LaunchServer, path: str, token: str, body: dict[str, Any]
) -> socket.socket:
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    client = socket.create_connection(("127.0.0.1", server.port))
    client.sendall(head.encode() + payload)
    return client


def test_leaving_mid_retrieval_cancels_the_query_and_skips_the_model(server, conversation):
    owner, talk = conversation
    path = f"/api/v1/chat/conversations/{talk.pk}/messages/stream"
    # The watcher reads pg_stat_activity outside any transaction, which would freeze it.
    with (
        psycopg.connect(database_url()) as locker,
        psycopg.connect(database_url(), autocommit=True) as watcher,
    ):
        locker.execute("LOCK TABLE vector_store_vectorrecord IN ACCESS EXCLUSIVE MODE")
        client = post_and_leave(server, path, bearer(owner), {"content": "when is high tide"})
        waiting = eventually(
            lambda: watcher.execute(WAITING_ON_THE_LOCK).fetchall(),
            what="the retrieval query to wait on the lock",
        )
        client.close()

        eventually(
            lambda: not watcher.execute(WAITING_ON_THE_LOCK).fetchall(),
            what="the abandoned retrieval query to be cancelled",
        )
        assert locker.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
        locker.rollback()

    assert len(waiting) == 1
    # Logged by the request's thread on its way out, before any model call could start.
    eventually(lambda: "the model is not asked" in server.log(), what="the request to give up")
    messages = ChatMessage.objects.filter(conversation=talk)
    assert list(messages.values_list("role", flat=True)) == ["user"]


def test_a_client_that_stays_gets_the_whole_stream(server, conversation):
    owner, talk = conversation
    response = requests.post(
        f"{server.url}/api/v1/chat/conversations/{talk.pk}/messages/stream",
        json={"content": "when is high tide"},
        headers={"Authorization": bearer(owner)},
        timeout=60,
    )

    assert response.status_code == 200
    events = [line for line in response.text.splitlines() if line.startswith("event: ")]
    assert events[0] == "event: references"
    assert events[-1] == "event: done"
    roles_saved = ChatMessage.objects.filter(conversation=talk).values_list("role", flat=True)
    assert sorted(roles_saved) == ["assistant", "user"]
