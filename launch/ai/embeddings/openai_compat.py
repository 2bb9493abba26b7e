"""An embedding provider for any OpenAI-compatible ``POST {base_url}/embeddings`` endpoint.

Works with OpenAI, Azure OpenAI's v1-compatible endpoint, Ollama, vLLM and Hugging Face
TEI. Transient failures (429, 5xx, timeouts, refused connections) are retried with capped
exponential backoff, honouring ``Retry-After``; when the provider gives up it raises a
typed :class:`EmbeddingServiceError` subclass so the ingestion task can record a
readable reason and decide whether to retry later.
"""

from __future__ import annotations

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
from launch.ai.http import (
    LazyClient,
    Retryable,
    RetryPolicy,
    excerpt,
    is_transient_status,
    retry_after,
)
from launch.ai.metering import report_usage


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
        timeout: float,
        batch_size: int,
        max_retries: int,
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
        self.retry = RetryPolicy(max(0, max_retries), backoff_base, backoff_max, sleep)
        self.send_dimensions = send_dimensions
        headers = {"Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self._client = LazyClient(headers=headers, timeout=timeout)

    def embed_documents(self, texts: Sequence[str]) -> list[Vector]:
        vectors: list[Vector] = []
        for start in range(0, len(texts), self.batch_size):
            vectors.extend(self._embed_batch(list(texts[start : start + self.batch_size])))
        return vectors

    def embed_query(self, text: str) -> Vector:
        return self._embed_batch([text])[0]

    def close(self) -> None:
        """Close pooled connections (the provider reconnects if used again)."""
        self._client.close()

    def _http(self) -> httpx.Client:
        return self._client.get()

    def _embed_batch(self, batch: list[str]) -> list[Vector]:
        payload: dict[str, Any] = {"model": self.model_name, "input": batch}
        if self.send_dimensions:
            payload["dimensions"] = self.dimensions
        url = f"{self.base_url}/embeddings"
        data, attempts = self.retry.run(
            lambda attempt: (self._attempt(url, payload, attempt), attempt), what="Embedding"
        )
        return self._parse(data, len(batch), attempts)

    def _attempt(self, url: str, payload: dict[str, Any], attempt: int) -> list[Any]:
        """Make one request and return the response's ``data`` list.

        Raises :class:`Retryable` for transient failures and the final typed error for
        everything that retrying cannot fix.
        """
        try:
            response = self._http().post(url, json=payload)
        except httpx.TimeoutException:
            message = f"The embedding service at {self.base_url} did not answer in time"
            raise Retryable(EmbeddingTimeout(message, attempts=attempt)) from None
        except httpx.TransportError as exc:
            message = f"The embedding service at {self.base_url} is unreachable: {exc}"
            raise Retryable(EmbeddingUnavailable(message, attempts=attempt)) from None
        status = response.status_code
        if status == 429:
            message = f"The embedding service at {self.base_url} is rate limiting requests"
            error: EmbeddingServiceError = EmbeddingRateLimited(
                message, status_code=status, attempts=attempt
            )
            raise Retryable(error, retry_after(response))
        if is_transient_status(status):
            message = f"The embedding service at {self.base_url} failed with HTTP {status}"
            error = EmbeddingUnavailable(message, status_code=status, attempts=attempt)
            raise Retryable(error, retry_after(response))
        if status >= 400:
            raise EmbeddingResponseError(
                f"The embedding service at {self.base_url} rejected the request with "
                f"HTTP {status}: {excerpt(response.text)}",
                status_code=status,
                attempts=attempt,
            )
        try:
            body = response.json()
            data = body["data"]
            if not isinstance(data, list):
                raise TypeError("data is not a list")
            report_usage(input_tokens=(body.get("usage") or {}).get("prompt_tokens"))
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingResponseError(
                f"The embedding service at {self.base_url} returned an unexpected body "
                f"({exc}): {excerpt(response.text)}",
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
