"""A chat model behind any OpenAI-compatible ``POST {base_url}/chat/completions``.

Works with OpenAI, Azure OpenAI's v1-compatible endpoint, Ollama, vLLM, llama.cpp's
server and LiteLLM. 429 and 5xx answers and refused connections are retried with capped
backoff (honouring ``Retry-After``) before any text is produced; a timeout is not
retried, since the user is already waiting. Streams use server-sent events with
``stream_options.include_usage`` so a streamed answer reports its tokens too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal

import httpx

from launch.ai.chunking import estimate_tokens
from launch.ai.http import (
    LazyClient,
    Retryable,
    RetryPolicy,
    excerpt,
    is_transient_status,
    retry_after,
)
from launch.ai.llm.base import (
    ChatTurn,
    Completion,
    LLMError,
    LLMRateLimited,
    LLMResponseError,
    LLMTimeout,
    LLMUnavailable,
    Passage,
    StreamDone,
    StreamEvent,
    TextDelta,
)


class OpenAIChatModel:
    """Chat completions over HTTP; ``max_retries`` counts retries after the first attempt."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float,
        max_retries: int,
        backoff_base: float = 0.5,
        backoff_max: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url:
            raise ValueError("base_url is required for the OpenAI-compatible chat model")
        self.model_name = model
        self.base_url = base_url.rstrip("/")
        self.retry = RetryPolicy(max(0, max_retries), backoff_base, backoff_max, sleep)
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = LazyClient(headers=headers, timeout=timeout)

    def complete(
        self,
        messages: Sequence[ChatTurn],
        *,
        max_tokens: int,
        temperature: float,
        passages: Sequence[Passage] = (),
    ) -> Completion:
        payload = self._payload(messages, max_tokens, temperature)
        body = self.retry.run(lambda attempt: self._post(payload, attempt), what="Chat")
        try:
            text = body["choices"][0]["message"]["content"] or ""
            usage = body.get("usage") or {}
        except (KeyError, IndexError, TypeError) as exc:
            raise LLMResponseError(
                f"The chat model at {self.base_url} returned an unexpected body ({exc!r})"
            ) from exc
        return self._completion(messages, text, usage, body.get("model"))

    def stream(
        self,
        messages: Sequence[ChatTurn],
        *,
        max_tokens: int,
        temperature: float,
        passages: Sequence[Passage] = (),
    ) -> Iterator[StreamEvent]:
        payload = self._payload(messages, max_tokens, temperature)
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}
        response = self.retry.run(lambda attempt: self._open(payload, attempt), what="Chat")
        parts: list[str] = []
        usage: dict[str, Any] = {}
        model: str | None = None
        finished = False
        try:
            for chunk in self._events(response):
                model = chunk.get("model") or model
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or []:
                    text = (choice.get("delta") or {}).get("content") or ""
                    if text:
                        parts.append(text)
                        yield TextDelta(text)
                    finished = finished or bool(choice.get("finish_reason"))
        finally:
            response.close()
        if not finished:
            raise LLMUnavailable(f"The chat model at {self.base_url} ended the stream early")
        yield StreamDone(self._completion(messages, "".join(parts), usage, model))

    def close(self) -> None:
        """Close pooled connections (the model reconnects if used again)."""
        self._client.close()

    # -- HTTP ---------------------------------------------------------------------------

    def _http(self) -> httpx.Client:
        return self._client.get()

    def _payload(
        self, messages: Sequence[ChatTurn], max_tokens: int, temperature: float
    ) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "messages": [turn.as_dict() for turn in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
        }

    def _post(self, payload: dict[str, Any], attempt: int) -> dict[str, Any]:
        url = f"{self.base_url}/chat/completions"
        with self._transport_errors(attempt):
            response = self._http().post(url, json=payload)
        self._check(response, attempt)
        try:
            body = response.json()
            if not isinstance(body, dict):
                raise TypeError("the body is not an object")
        except (ValueError, TypeError) as exc:
            raise LLMResponseError(
                f"The chat model at {self.base_url} returned an unexpected body ({exc}): "
                f"{excerpt(response.text)}",
                status_code=response.status_code,
                attempts=attempt,
            ) from exc
        return body

    def _open(self, payload: dict[str, Any], attempt: int) -> httpx.Response:
        client = self._http()
        request = client.build_request("POST", f"{self.base_url}/chat/completions", json=payload)
        with self._transport_errors(attempt):
            response = client.send(request, stream=True)
        try:
            if response.status_code >= 400:
                with self._transport_errors(attempt):
                    response.read()
            self._check(response, attempt)
        except BaseException:
            response.close()
            raise
        return response

    def _events(self, response: httpx.Response) -> Iterator[dict[str, Any]]:
        """Parsed ``data:`` payloads of a server-sent event stream, up to ``[DONE]``."""
        with self._transport_errors(attempt=1, retry=False):
            for line in response.iter_lines():
                if not line.startswith("data:"):
                    continue  # comments, event names, keep-alive blank lines
                data = line[5:].strip()
                if data == "[DONE]":
                    return
                try:
                    chunk = json.loads(data)
                except ValueError as exc:
                    raise LLMResponseError(
                        f"The chat model at {self.base_url} streamed malformed data: "
                        f"{excerpt(data)}"
                    ) from exc
                if isinstance(chunk, dict) and "error" in chunk:
                    raise LLMUnavailable(
                        f"The chat model at {self.base_url} failed mid-stream: "
                        f"{excerpt(json.dumps(chunk['error']))}"
                    )
                if isinstance(chunk, dict):
                    yield chunk

    def _transport_errors(self, attempt: int, *, retry: bool = True) -> _TransportErrors:
        return _TransportErrors(self.base_url, attempt, retry)

    def _check(self, response: httpx.Response, attempt: int) -> None:
        status = response.status_code
        if status < 400:
            return
        if status == 429:
            hint = retry_after(response)
            message = f"The chat model at {self.base_url} is rate limiting requests"
            raise Retryable(LLMRateLimited(message, retry_after=hint, attempts=attempt), hint)
        message = (
            f"The chat model at {self.base_url} failed with HTTP {status}: {excerpt(response.text)}"
        )
        if is_transient_status(status):
            error = LLMUnavailable(message, status_code=status, attempts=attempt)
            raise Retryable(error, retry_after(response))
        raise LLMResponseError(message, status_code=status, attempts=attempt)

    def _completion(
        self,
        messages: Sequence[ChatTurn],
        text: str,
        usage: dict[str, Any],
        model: str | None,
    ) -> Completion:
        # Some servers omit usage; an estimate keeps capacity accounting meaningful.
        prompt_tokens = usage.get("prompt_tokens")
        completion_tokens = usage.get("completion_tokens")
        return Completion(
            text=text,
            prompt_tokens=int(
                prompt_tokens
                if prompt_tokens is not None
                else sum(estimate_tokens(turn.content) for turn in messages)
            ),
            completion_tokens=int(
                completion_tokens if completion_tokens is not None else estimate_tokens(text)
            ),
            model=str(model or self.model_name),
            tokens_estimated=prompt_tokens is None or completion_tokens is None,
        )


class _TransportErrors:
    """Turns httpx's network errors into typed errors (retryable before any text)."""

    def __init__(self, base_url: str, attempt: int, retry: bool) -> None:
        self.base_url = base_url
        self.attempt = attempt
        self.retry = retry

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        if isinstance(exc, httpx.TimeoutException):
            raise LLMTimeout(
                f"The chat model at {self.base_url} did not answer in time",
                attempts=self.attempt,
            ) from None
        if isinstance(exc, httpx.TransportError):
            error: LLMError = LLMUnavailable(
                f"The chat model at {self.base_url} is unreachable: {exc}",
                attempts=self.attempt,
            )
            if self.retry:
                raise Retryable(error) from None
            raise error from None
        return False
