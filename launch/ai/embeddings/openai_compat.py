"""An embedding provider for any OpenAI-compatible ``POST {base_url}/embeddings`` endpoint.

Works with OpenAI, Azure OpenAI's v1-compatible endpoint, Ollama, vLLM and Hugging Face
TEI. Transient failures (429, 5xx, timeouts, refused connections) are retried with capped
exponential backoff, honouring ``Retry-After``; when the provider gives up it raises a
typed :class:`EmbeddingServiceError` subclass so the ingestion task can record a
readable reason and decide whether to retry later.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from launch.ai.embeddings.base import (
    EmbeddingDimensionError,
    EmbeddingRateLimited,
    EmbeddingResponseError,
    EmbeddingServiceError,
    EmbeddingTimeout,
    EmbeddingUnavailable,
    Vector,
)

logger = logging.getLogger(__name__)

# 429 is handled separately; 501 Not Implemented will not get better by asking again.
_RETRYABLE_CLIENT_STATUS = frozenset({408, 425})


class _Retryable(Exception):  # internal control flow, never seen by callers
    """A transient failure: the error to raise if retries run out, and the server's wait hint."""

    def __init__(self, error: EmbeddingServiceError, wait_hint: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait_hint = wait_hint


class OpenAIEmbeddingProvider:
    """Embeds through an OpenAI-compatible HTTP API, ``batch_size`` inputs per request.

    ``max_retries`` counts retries after the first attempt (3 means at most 4 requests
    per batch). Backoff is ``backoff_base * 2**retry`` with jitter, and any wait,
    including a server's ``Retry-After``, is capped at ``backoff_max`` seconds so a
    worker never sleeps for minutes on one batch. ``send_dimensions`` adds the
    ``dimensions`` field to requests, for models that can shorten their vectors (OpenAI's
    text-embedding-3); leave it off for servers that reject unknown fields.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        dimensions: int,
        api_key: str | None = None,
        timeout: float = 30.0,
        batch_size: int = 64,
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        send_dimensions: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not base_url:
            raise ValueError("base_url is required for the OpenAI-compatible provider")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.model_name = model
        self.dimensions = dimensions
        self.base_url = base_url.rstrip("/")
        self.batch_size = batch_size
        self.max_retries = max(0, max_retries)
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.send_dimensions = send_dimensions
        self._sleep = sleep
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._headers = headers
        self._timeout = httpx.Timeout(timeout)
        self._client: httpx.Client | None = None
        self._client_lock = threading.Lock()

    def embed_documents(self, texts: Sequence[str]) -> list[Vector]:
        vectors: list[Vector] = []
        for start in range(0, len(texts), self.batch_size):
            vectors.extend(self._embed_batch(list(texts[start : start + self.batch_size])))
        return vectors

    def embed_query(self, text: str) -> Vector:
        return self._embed_batch([text])[0]

    def close(self) -> None:
        """Close pooled connections (the provider reconnects if used again)."""
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _http(self) -> httpx.Client:
        with self._client_lock:
            if self._client is None:
                self._client = httpx.Client(headers=self._headers, timeout=self._timeout)
            return self._client

    def _embed_batch(self, batch: list[str]) -> list[Vector]:
        payload: dict[str, Any] = {"model": self.model_name, "input": batch}
        if self.send_dimensions:
            payload["dimensions"] = self.dimensions
        url = f"{self.base_url}/embeddings"
        attempt = 0
        while True:
            attempt += 1
            try:
                data = self._attempt(url, payload, attempt)
            except _Retryable as retryable:
                if attempt > self.max_retries:
                    error = retryable.error
                    error.args = (f"{error} (gave up after {attempt} attempts)",)
                    raise error from None
                delay = self._delay(attempt, retryable.wait_hint)
                logger.warning(
                    "Embedding request failed (%s); retry %d/%d in %.1fs",
                    retryable.error,
                    attempt,
                    self.max_retries,
                    delay,
                )
                self._sleep(delay)
                continue
            return self._parse(data, len(batch), attempt)

    def _attempt(self, url: str, payload: dict[str, Any], attempt: int) -> list[Any]:
        """Make one request and return the response's ``data`` list.

        Raises :class:`_Retryable` for transient failures and the final typed error for
        everything that retrying cannot fix.
        """
        try:
            response = self._http().post(url, json=payload)
        except httpx.TimeoutException:
            message = f"The embedding service at {self.base_url} did not answer in time"
            raise _Retryable(EmbeddingTimeout(message, attempts=attempt)) from None
        except httpx.TransportError as exc:
            message = f"The embedding service at {self.base_url} is unreachable: {exc}"
            raise _Retryable(EmbeddingUnavailable(message, attempts=attempt)) from None
        status = response.status_code
        if status == 429:
            message = f"The embedding service at {self.base_url} is rate limiting requests"
            error: EmbeddingServiceError = EmbeddingRateLimited(
                message, status_code=status, attempts=attempt
            )
            raise _Retryable(error, _retry_after(response))
        if status in _RETRYABLE_CLIENT_STATUS or (status >= 500 and status != 501):
            message = f"The embedding service at {self.base_url} failed with HTTP {status}"
            error = EmbeddingUnavailable(message, status_code=status, attempts=attempt)
            raise _Retryable(error, _retry_after(response))
        if status >= 400:
            raise EmbeddingResponseError(
                f"The embedding service at {self.base_url} rejected the request with "
                f"HTTP {status}: {_excerpt(response.text)}",
                status_code=status,
                attempts=attempt,
            )
        try:
            body = response.json()
            data = body["data"]
            if not isinstance(data, list):
                raise TypeError("data is not a list")
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingResponseError(
                f"The embedding service at {self.base_url} returned an unexpected body "
                f"({exc}): {_excerpt(response.text)}",
                status_code=status,
                attempts=attempt,
            ) from exc
        return data

    def _parse(self, data: list[Any], expected: int, attempts: int) -> list[Vector]:
        """Order vectors by ``index`` and check their count and length."""
        try:
            items = sorted(data, key=lambda item: int(item["index"]))
            vectors = [[float(x) for x in item["embedding"]] for item in items]
            indexes = [int(item["index"]) for item in items]
        except (KeyError, TypeError, ValueError) as exc:
            raise EmbeddingResponseError(
                f"The embedding service at {self.base_url} returned malformed items ({exc})",
                attempts=attempts,
            ) from exc
        if indexes != list(range(expected)):
            raise EmbeddingResponseError(
                f"The embedding service returned {len(vectors)} vectors for {expected} inputs",
                attempts=attempts,
            )
        for vector in vectors:
            if len(vector) != self.dimensions:
                raise EmbeddingDimensionError(
                    f"The embedding model {self.model_name!r} returned {len(vector)}-dimensional "
                    f"vectors but EMBEDDING_DIMENSIONS is {self.dimensions}",
                    attempts=attempts,
                )
        return vectors

    def _delay(self, attempt: int, hint: float | None) -> float:
        if hint is not None:
            return min(max(hint, 0.0), self.backoff_max)
        exponential = self.backoff_base * 2.0 ** (attempt - 1)
        # Jitter spreads out workers that all failed at the same moment.
        jitter = random.uniform(0.5, 1.0)  # noqa: S311 - spreading retries, not security
        return min(exponential * jitter, self.backoff_max)


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _excerpt(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."
