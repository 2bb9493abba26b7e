"""Model failures: 504, 429 with Retry-After, 502; the question is kept, no answer is saved."""

from __future__ import annotations

import pytest

from apps.chat.models import ChatMessage
from tests.chat.conftest import conversation_url

pytestmark = [pytest.mark.django_db, pytest.mark.promise(4)]


def roles_saved(conversation):
    return list(
        ChatMessage.objects.filter(conversation=conversation)
        .order_by("created_at")
        .values_list("role", flat=True)
    )


@pytest.fixture(params=["/messages", "/messages/stream"])
def route(request):
    """Both routes fail the same way when the model fails before its first token."""
    return request.param


@pytest.fixture
def post(client_for, member, conversation):
    def send(route):
        return client_for(member).post(conversation_url(conversation, route), {"content": "Tides?"})

    return send


def test_a_model_timeout_is_504(post, conversation, llm, settings, route):
    settings.LLM_TIMEOUT = 0.3
    llm.stall_next(seconds=3)
    response = post(route)
    assert response.status_code == 504
    assert "did not answer in time" in response.json()["detail"]
    assert roles_saved(conversation) == ["user"]


def test_a_model_rate_limit_is_429_with_retry_after(post, conversation, llm, route):
    llm.fail_next(429, times=2)
    response = post(route)
    assert response.status_code == 429
    assert response["Retry-After"] == "5"  # the service gave none; clients get a usable wait
    assert roles_saved(conversation) == ["user"]


def test_the_services_retry_after_reaches_the_client(post, conversation, llm):
    llm.fail_next(429, times=1, retry_after=0)
    llm.fail_next(429, times=1, retry_after=30)
    response = post("/messages")
    assert response["Retry-After"] == "30"


@pytest.mark.parametrize("fault", ["500", "400", "malformed"])
def test_other_model_failures_are_502(post, conversation, llm, fault):
    if fault == "malformed":
        llm.malformed_next()
    else:
        llm.fail_next(int(fault), times=2)
    response = post("/messages")
    assert response.status_code == 502
    assert "127.0.0.1" not in response.json()["detail"]  # the upstream URL stays in the log
    assert roles_saved(conversation) == ["user"]


@pytest.mark.promise(5)
def test_a_transient_failure_is_retried_and_answered(post, conversation, llm):
    llm.fail_next(503)
    response = post("/messages")
    assert response.status_code == 201
    assert roles_saved(conversation) == ["user", "assistant"]
    assert len(llm.requests_to("/chat/completions")) == 2
