"""The test double itself: its chat endpoint must behave like OpenAI's for later clients."""

from __future__ import annotations

import json

import httpx

from tests.support.llm_server import LLMServer


def test_chat_completion_answers_with_usage() -> None:
    with LLMServer(chat_reply="Four.") as server:
        body = {"model": "m", "messages": [{"role": "user", "content": "Two plus two?"}]}
        answer = httpx.post(f"{server.url}/chat/completions", json=body).json()
    assert answer["choices"][0]["message"] == {"role": "assistant", "content": "Four."}
    assert answer["usage"] == {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    assert server.requests[0].body == body


def test_chat_stream_sends_sse_chunks_then_usage_then_done() -> None:
    with LLMServer() as server:
        body = {
            "model": "m",
            "stream": True,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "hello there"}],
        }
        with httpx.stream("POST", f"{server.url}/chat/completions", json=body) as response:
            assert response.headers["content-type"] == "text/event-stream"
            lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    events = [json.loads(line.removeprefix("data: ")) for line in lines[:-1]]
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in events if e["choices"])
    assert text == "Echo: hello there"
    assert events[-2]["choices"][0]["finish_reason"] == "stop"
    assert events[-1]["choices"] == []
    assert events[-1]["usage"]["completion_tokens"] == 3


def test_scripted_failures_are_consumed_in_order() -> None:
    with LLMServer(api_key="k") as server:
        server.fail_next(429, retry_after=7)
        server.fail_next(500)
        headers = {"Authorization": "Bearer k"}
        first = httpx.get(f"{server.url}/models", headers=headers)
        second = httpx.get(f"{server.url}/models", headers=headers)
        third = httpx.get(f"{server.url}/models", headers=headers)
        unauthorised = httpx.get(f"{server.url}/models")
    assert (first.status_code, first.headers["retry-after"]) == (429, "7")
    assert second.status_code == 500
    assert third.json()["data"][0]["id"] == "launch-test-model"
    assert unauthorised.status_code == 401
    assert len(server.requests) == 4
