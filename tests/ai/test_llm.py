"""Chat models: the offline extractive provider, and the HTTP provider against a real server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from launch.ai.llm import (
    ChatModel,
    ChatTurn,
    ExtractiveChatModel,
    LLMConfig,
    LLMRateLimited,
    LLMResponseError,
    LLMTimeout,
    LLMUnavailable,
    OpenAIChatModel,
    Passage,
    StreamDone,
    TextDelta,
    build_chat_model,
    get_chat_model,
)
from launch.ai.llm.extractive import INTRO, NOTHING_FOUND
from tests.support.llm_server import LLMServer

QUESTION = [ChatTurn("system", "Be brief."), ChatTurn("user", "What is the refund window?")]
PASSAGES = [
    Passage(1, "Refunds are accepted within 30 days of purchase.", "policy.pdf, page 2"),
    Passage(2, "Shipping takes five working days.", "faq.txt"),
]


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer(chat_reply="The window is 30 days [1].") as running:
        yield running


def make_model(server: LLMServer, **overrides: Any) -> OpenAIChatModel:
    options: dict[str, Any] = {
        "base_url": server.url,
        "model": "test-chat",
        "timeout": 2.0,
        "max_retries": 2,
        "sleep": lambda _seconds: None,
    }
    options.update(overrides)
    return OpenAIChatModel(**options)


# -- extractive --------------------------------------------------------------------------


def test_extractive_quotes_passages_with_their_citation_numbers() -> None:
    answer = ExtractiveChatModel().complete(QUESTION, max_tokens=500, passages=PASSAGES)
    assert answer.text.startswith(INTRO)
    assert "not generated" in answer.text
    assert '[1] "Refunds are accepted within 30 days of purchase." (policy.pdf, page 2)' in (
        answer.text
    )
    assert "[2]" in answer.text
    assert answer.model == "extractive"
    assert answer.prompt_tokens > 0
    assert answer.completion_tokens > 0


def test_extractive_says_so_when_nothing_matches() -> None:
    answer = ExtractiveChatModel().complete(QUESTION, max_tokens=500)
    assert answer.text == NOTHING_FOUND


def test_extractive_keeps_within_the_answer_budget() -> None:
    long = [Passage(n, "word " * 120, f"doc{n}.txt") for n in range(1, 4)]
    answer = ExtractiveChatModel().complete(QUESTION, max_tokens=200, passages=long)
    assert "[1]" in answer.text
    assert "[2]" not in answer.text
    assert answer.completion_tokens <= 200


def test_extractive_stream_yields_the_same_text_then_done(monkeypatch) -> None:
    # No network: any socket the provider tried to open would fail the test.
    monkeypatch.setattr(socket, "socket", None)
    events = list(ExtractiveChatModel().stream(QUESTION, max_tokens=500, passages=PASSAGES))
    assert all(isinstance(event, TextDelta) for event in events[:-1])
    assert isinstance(events[-1], StreamDone)
    streamed = "".join(event.text for event in events[:-1] if isinstance(event, TextDelta))
    assert streamed == events[-1].completion.text
    assert "[2]" in streamed


# -- OpenAI-compatible: complete ---------------------------------------------------------


def test_complete_sends_the_messages_and_reports_usage(server: LLMServer) -> None:
    server.api_key = "sk-chat"
    answer = make_model(server, api_key="sk-chat").complete(
        QUESTION, max_tokens=64, temperature=0.2
    )
    assert answer.text == "The window is 30 days [1]."
    assert (answer.prompt_tokens, answer.completion_tokens) == (7, 6)
    assert answer.model == "test-chat"
    request = server.requests[0]
    assert request.headers["authorization"] == "Bearer sk-chat"
    assert request.body["messages"] == [turn.as_dict() for turn in QUESTION]
    assert (request.body["max_tokens"], request.body["temperature"]) == (64, 0.2)
    assert isinstance(make_model(server), ChatModel)


def test_complete_retries_429_honouring_retry_after(server: LLMServer) -> None:
    slept: list[float] = []
    server.fail_next(429, times=2, retry_after=2)
    answer = make_model(server, sleep=slept.append).complete(QUESTION, max_tokens=64, temperature=0)
    assert answer.text.startswith("The window")
    assert slept == [2.0, 2.0]
    assert len(server.requests) == 3


def test_complete_gives_up_on_429_with_the_servers_wait(server: LLMServer) -> None:
    server.fail_next(429, times=5, retry_after=7)
    with pytest.raises(LLMRateLimited) as raised:
        make_model(server, max_retries=1).complete(QUESTION, max_tokens=64, temperature=0)
    assert raised.value.retry_after == 7.0
    assert raised.value.attempts == 2


def test_complete_retries_5xx_and_dropped_connections(server: LLMServer) -> None:
    server.fail_next(503)
    server.disconnect_next()
    make_model(server).complete(QUESTION, max_tokens=64, temperature=0)
    assert len(server.requests) == 3

    server.reset()
    server.fail_next(500, times=5)
    with pytest.raises(LLMUnavailable, match="HTTP 500") as raised:
        make_model(server, max_retries=1).complete(QUESTION, max_tokens=64, temperature=0)
    assert raised.value.status_code == 500


def test_complete_times_out_without_retrying(server: LLMServer) -> None:
    server.stall_next(seconds=5)
    with pytest.raises(LLMTimeout, match="did not answer in time"):
        make_model(server, timeout=0.2).complete(QUESTION, max_tokens=64, temperature=0)
    assert len(server.requests) == 1


def test_complete_does_not_retry_a_rejected_request(server: LLMServer) -> None:
    server.fail_next(400)
    with pytest.raises(LLMResponseError, match="HTTP 400"):
        make_model(server).complete(QUESTION, max_tokens=64, temperature=0)
    assert len(server.requests) == 1


def test_complete_reports_a_malformed_body(server: LLMServer) -> None:
    server.malformed_next()
    with pytest.raises(LLMResponseError, match="unexpected body"):
        make_model(server).complete(QUESTION, max_tokens=64, temperature=0)


# -- OpenAI-compatible: stream -----------------------------------------------------------


def test_stream_yields_deltas_then_usage(server: LLMServer) -> None:
    events = list(make_model(server).stream(QUESTION, max_tokens=64, temperature=0))
    deltas = [event.text for event in events if isinstance(event, TextDelta)]
    assert len(deltas) > 1
    assert isinstance(events[-1], StreamDone)
    done = events[-1].completion
    assert "".join(deltas) == done.text == "The window is 30 days [1]."
    assert (done.prompt_tokens, done.completion_tokens) == (7, 6)
    body = server.requests[0].body
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_stream_retries_before_the_first_byte(server: LLMServer) -> None:
    server.fail_next(502)
    events = list(make_model(server).stream(QUESTION, max_tokens=64, temperature=0))
    assert isinstance(events[-1], StreamDone)
    assert len(server.requests) == 2


def test_stream_maps_429_to_rate_limited(server: LLMServer) -> None:
    server.fail_next(429, times=3, retry_after=4)
    with pytest.raises(LLMRateLimited) as raised:
        list(make_model(server).stream(QUESTION, max_tokens=64, temperature=0))
    assert raised.value.retry_after == 4.0


def test_stream_that_stalls_mid_answer_times_out(server: LLMServer) -> None:
    server.stream_delay = 1.0
    stream = make_model(server, timeout=0.3).stream(QUESTION, max_tokens=64, temperature=0)
    events: list[object] = []

    def consume() -> None:
        events.extend(stream)

    with pytest.raises(LLMTimeout):
        consume()
    assert not any(isinstance(event, StreamDone) for event in events)


# -- choosing a provider -----------------------------------------------------------------


def test_build_defaults_to_extractive_and_rejects_unknown_providers() -> None:
    assert isinstance(build_chat_model(LLMConfig.from_settings()), ExtractiveChatModel)
    with pytest.raises(ImproperlyConfigured, match="LLM_PROVIDER='gpt'"):
        build_chat_model(replace(LLMConfig.from_settings(), provider="gpt"))


def test_build_openai_requires_a_base_url_and_model() -> None:
    with pytest.raises(ImproperlyConfigured, match="LLM_BASE_URL"):
        build_chat_model(replace(LLMConfig.from_settings(), provider="openai", model="m"))
    with pytest.raises(ImproperlyConfigured, match="LLM_MODEL"):
        build_chat_model(
            replace(LLMConfig.from_settings(), provider="openai", base_url="http://x/v1")
        )


def test_config_repr_hides_the_api_key() -> None:
    assert "sk-secret" not in repr(replace(LLMConfig.from_settings(), api_key="sk-secret"))


def test_get_chat_model_follows_settings(settings: Any, server: LLMServer) -> None:
    settings.LLM_PROVIDER = "openai"
    settings.LLM_BASE_URL = server.url
    settings.LLM_MODEL = "remote-chat"
    model = get_chat_model()
    assert get_chat_model() is model
    assert isinstance(model, OpenAIChatModel)
    assert model.complete(QUESTION, max_tokens=8, temperature=0).model == "remote-chat"
    settings.LLM_PROVIDER = "extractive"
    assert isinstance(get_chat_model(), ExtractiveChatModel)  # the remote one is closed
