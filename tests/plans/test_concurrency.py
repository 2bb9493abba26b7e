"""Quotas hold under concurrency: N requests fired at once at the edge of a limit, spread
over two Launch servers (separate processes, each running requests in its own threads)
that share the database and a Redis cache, as deployed. The limits counted here are
never passed, not even by one (docs/usage.md, "Under concurrency").

Redis database 8 is this module's alone; it is flushed before and after.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from django.conf import settings

from apps.chat.models import ChatMessage
from apps.projects.models import Document
from tests.conftest import bearer
from tests.support.servers import LaunchServer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REDIS_URL = "redis://127.0.0.1:6379/8"
PARALLEL = 16


# Per test, not per module: each test's end empties the tables and the content types
# come back with new ids, which a server started before would still hold in its cache.
@pytest.fixture
def servers() -> Iterator[tuple[LaunchServer, LaunchServer]]:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    env = {"CACHE_URL": REDIS_URL}
    try:
        with LaunchServer(extra_env=env) as first, LaunchServer(extra_env=env) as second:
            yield first, second
    finally:
        client.flushdb()
        client.close()


def at_once(servers: tuple[LaunchServer, ...], send: Callable[[str], Any]) -> list[Any]:
    """`send(base_url)` from PARALLEL threads released together, alternating servers."""
    barrier = threading.Barrier(PARALLEL)

    def one(index: int) -> Any:
        barrier.wait()
        return send(servers[index % len(servers)].url)

    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(one, range(PARALLEL)))


def test_parallel_uploads_never_pass_the_documents_limit(servers, member, team, limits):
    from tests.chat.conftest import create_project

    limits(max_documents=3)
    project = create_project(owner=member)
    headers = {"Authorization": bearer(member)}

    def send(url: str) -> requests.Response:
        files = {"file": ("a.txt", b"some plain text", "text/plain")}
        path = f"/api/v1/projects/{project.pk}/documents"
        return requests.post(f"{url}{path}", files=files, headers=headers, timeout=60)

    answers = at_once(servers, send)

    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] * 3 + [403] * (PARALLEL - 3)
    assert Document.objects.filter(project=project).count() == 3
    folder = Path(settings.MEDIA_ROOT) / "documents" / str(project.pk)
    assert len(list(folder.iterdir())) == 3  # the refused ones' files were removed


def test_parallel_messages_never_pass_the_daily_limit(servers, member, team, limits):
    from tests.chat.conftest import start

    limits(chat_messages_per_day=5)
    conversation = start(member, use_documents=False)
    headers = {"Authorization": bearer(member)}

    def send(url: str) -> requests.Response:
        return requests.post(
            f"{url}/api/v1/chat/conversations/{conversation.pk}/messages",
            json={"content": "Hello?"},
            headers=headers,
            timeout=60,
        )

    answers = at_once(servers, send)

    assert sorted(a.status_code for a in answers) == [201] * 5 + [429] * (PARALLEL - 5)
    assert ChatMessage.objects.filter(conversation=conversation, role="user").count() == 5


def test_a_parallel_burst_of_api_key_requests_never_passes_the_rate(
    servers, member, team, limits, make_key
):
    limits(api_key_requests_per_minute=4)
    _, raw = make_key(member)
    if 60 - time.time() % 60 < 15:
        time.sleep(60 - time.time() % 60)  # one minute's window for the whole burst

    def send(url: str) -> requests.Response:
        return requests.get(
            f"{url}/api/v1/users/me", headers={"Authorization": f"Bearer {raw}"}, timeout=60
        )

    answers = at_once(servers, send)

    assert sorted(a.status_code for a in answers) == [200] * 4 + [429] * (PARALLEL - 4)
    remaining = sorted(int(a.headers["X-RateLimit-Remaining"]) for a in answers)
    assert remaining[-4:] == [0, 1, 2, 3]  # each admitted request saw its own count


def test_parallel_messages_pass_the_token_budget_by_at_most_the_answers_in_flight(
    servers, member, team, limits
):
    from django.db.models import F, Sum

    from apps.usage.models import ModelCall
    from tests.chat.conftest import start

    limits(tokens_per_month=1)  # spent by the first answer recorded
    conversation = start(member, use_documents=False)
    headers = {"Authorization": bearer(member)}

    def send(url: str) -> requests.Response:
        return requests.post(
            f"{url}/api/v1/chat/conversations/{conversation.pk}/messages",
            json={"content": "How do tides work?"},
            headers=headers,
            timeout=60,
        )

    answers = at_once(servers, send)

    admitted = sum(a.status_code == 201 for a in answers)
    assert 1 <= admitted <= PARALLEL
    assert {a.status_code for a in answers} <= {201, 429}
    spent = ModelCall.objects.filter(team=team).aggregate(
        total=Sum(F("input_tokens") + F("output_tokens"))
    )["total"]
    # The documented bound: the answers admitted before the first one was recorded, each
    # within the model's context (prompt + answer <= LLM_CONTEXT_TOKENS).
    assert spent - 1 <= admitted * settings.LLM_CONTEXT_TOKENS
    assert ChatMessage.objects.filter(conversation=conversation, role="user").count() == admitted
    after = send(servers[0].url)
    assert after.status_code == 429
    assert after.json()["quota"] == "tokens_per_month"
