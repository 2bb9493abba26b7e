"""Retry and backoff shared by the HTTP providers (embeddings, chat completions).

A provider classifies each failed attempt: transient ones (429, 5xx, timeouts, refused
connections) are raised as :class:`Retryable` wrapping the typed error to surface when
retries run out; anything else is raised as is and ends the loop at once.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

logger = logging.getLogger(__name__)

T = TypeVar("T")

# 429 is a rate limit, reported on its own; 501 Not Implemented will not get better.
RETRYABLE_CLIENT_STATUS = frozenset({408, 425})


def is_transient_status(status: int) -> bool:
    """A status worth asking again for, other than 429 (see the module docstring)."""
    return status in RETRYABLE_CLIENT_STATUS or (status >= 500 and status != 501)


class Retryable(Exception):  # internal control flow, never seen by callers
    """A transient failure: the error to raise if retries run out, and the server's wait hint."""

    def __init__(self, error: Exception, wait_hint: float | None = None) -> None:
        super().__init__(str(error))
        self.error = error
        self.wait_hint = wait_hint


@dataclass(frozen=True)
class RetryPolicy:
    """``max_retries`` retries after the first attempt, waiting ``backoff_base * 2**n``
    with jitter, or the server's ``Retry-After``; every wait is capped at ``backoff_max``
    so a worker never sleeps for minutes on one request."""

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)

    def delay(self, attempt: int, hint: float | None) -> float:
        if hint is not None:
            return min(max(hint, 0.0), self.backoff_max)
        exponential = self.backoff_base * 2.0 ** (attempt - 1)
        # Jitter spreads out workers that all failed at the same moment.
        jitter = random.uniform(0.5, 1.0)  # noqa: S311 - spreading retries, not security
        return min(exponential * jitter, self.backoff_max)

    def run(self, attempt_once: Callable[[int], T], *, what: str) -> T:
        """Call ``attempt_once(attempt)`` until it returns, retrying :class:`Retryable`.

        When retries run out, the wrapped error is raised with the number of attempts
        appended to its message.
        """
        attempt = 0
        while True:
            attempt += 1
            try:
                return attempt_once(attempt)
            except Retryable as retryable:
                if attempt > max(0, self.max_retries):
                    error = retryable.error
                    error.args = (f"{error} (gave up after {attempt} attempts)",)
                    raise error from None
                delay = self.delay(attempt, retryable.wait_hint)
                logger.warning(
                    "%s request failed (%s); retry %d/%d in %.1fs",
                    what,
                    retryable.error,
                    attempt,
                    self.max_retries,
                    delay,
                )
                self.sleep(delay)


def retry_after(response: httpx.Response) -> float | None:
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


def excerpt(text: str, limit: int = 200) -> str:
    """``text`` on one line, cut to ``limit`` characters, for error messages."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."


class LazyClient:
    """One pooled `httpx.Client`, opened on first use and shared by the threads of a
    process; `close()` drops it and the next use opens a fresh one."""

    def __init__(self, *, headers: dict[str, str], timeout: float) -> None:
        self._headers = headers
        self._timeout = httpx.Timeout(timeout)
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def get(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(headers=self._headers, timeout=self._timeout)
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
