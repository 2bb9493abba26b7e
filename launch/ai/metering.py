"""Metering: the one seam where every model call is measured for the usage ledger.

`launch/` knows no app, so this module only measures; where a measurement goes is the
sink an app registers (`apps.usage` writes a `ModelCall` row). Callers wrap a model call
in `metered(...)`; providers that read a token count from the service's response call
`report_usage(...)`, and calls whose provider reports nothing keep the caller's
estimate, marked estimated. Who the call is for (user, key, project, ...) comes from
`attributed(...)`, set around the work by the code that knows it.

Recording never raises: a sink that fails is logged and the user's request goes on.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

logger = logging.getLogger(__name__)

PURPOSES = ("ingest", "query_embedding", "answer", "stream_answer", "title")
STATUSES = ("ok", "error", "cancelled")

# Class name -> the provider name the ledger shows (the settings' spelling).
_PROVIDER_NAMES = {
    "OpenAIChatModel": "openai",
    "OpenAIEmbeddingProvider": "openai",
    "ExtractiveChatModel": "extractive",
    "HashingEmbeddingProvider": "hashing",
    "OnnxEmbeddingProvider": "onnx",
    "SentenceTransformersProvider": "sentence-transformers",
}


@dataclass(frozen=True)
class CallRecord:
    """One finished model call, as handed to the sink."""

    purpose: str
    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    tokens_estimated: bool
    latency_ms: int
    status: str
    idempotency_key: str | None
    attribution: Mapping[str, Any] = field(default_factory=dict)


Sink = Callable[[CallRecord], None]
_sinks: list[Sink] = []  # at most one
_attribution: ContextVar[Mapping[str, Any]] = ContextVar(
    "usage_attribution", default=MappingProxyType({})
)
_current: ContextVar[Meter | None] = ContextVar("usage_meter", default=None)


def set_sink(sink: Sink | None) -> None:
    """Where finished calls go (None: nowhere). Set once by the ledger app."""
    _sinks[:] = [sink] if sink is not None else []


@contextmanager
def attributed(**fields: Any) -> Iterator[None]:
    """Name who model calls inside the block are for (`user`, `api_key`, `project_id`,
    `document_id`, `conversation_id`); inner blocks add to outer ones."""
    token = _attribution.set({**_attribution.get(), **fields})
    try:
        yield
    finally:
        _attribution.reset(token)


def provider_name(provider: object) -> str:
    name = type(provider).__name__
    return _PROVIDER_NAMES.get(name, name)


class Meter:
    """Measures one call from its creation to `finish` (recorded once, whatever happens).

    Created where the call starts, so it keeps the attribution of that moment even when
    finished elsewhere (a stream's last event arrives in another thread or task)."""

    def __init__(
        self,
        purpose: str,
        provider: object,
        *,
        input_estimate: int = 0,
        idempotency_key: str | None = None,
    ) -> None:
        self.purpose = purpose
        self.provider = provider_name(provider)
        self.model = str(getattr(provider, "model_name", "") or "")
        self.input_estimate = input_estimate
        self.output_estimate = 0
        self.idempotency_key = idempotency_key
        self.attribution = dict(_attribution.get())
        self.started = time.monotonic()
        self.reported_input: int | None = None
        self.reported_output: int | None = None
        self.finished = False

    def report(self, *, input_tokens: int | None = None, output_tokens: int | None = None) -> None:
        """Add a count the service reported (a call may make several requests)."""
        if input_tokens is not None:
            self.reported_input = (self.reported_input or 0) + int(input_tokens)
        if output_tokens is not None:
            self.reported_output = (self.reported_output or 0) + int(output_tokens)

    def finish(
        self,
        status: str,
        *,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        estimated: bool | None = None,
        model: str | None = None,
    ) -> None:
        """Record the call. Explicit counts win over reported ones, which win over the
        estimates; `estimated` defaults to "some count was not reported"."""
        if self.finished:
            return
        self.finished = True
        inp = input_tokens if input_tokens is not None else self.reported_input
        out = output_tokens if output_tokens is not None else self.reported_output
        if status == "error" and inp is None and out is None:
            inp, out = 0, 0  # a failed call that reported nothing consumed nothing known
        if estimated is None:
            estimated = inp is None or (out is None and self.output_estimate > 0)
        record = CallRecord(
            purpose=self.purpose,
            provider=self.provider,
            model=model or self.model,
            input_tokens=max(0, int(inp if inp is not None else self.input_estimate)),
            output_tokens=max(0, int(out if out is not None else self.output_estimate)),
            tokens_estimated=bool(estimated),
            latency_ms=int((time.monotonic() - self.started) * 1000),
            status=status,
            idempotency_key=self.idempotency_key,
            attribution=self.attribution,
        )
        try:
            for sink in _sinks:
                sink(record)
        except Exception:
            logger.exception("the usage ledger could not record a %s call", self.purpose)


@contextmanager
def metered(
    purpose: str,
    provider: object,
    *,
    input_estimate: int = 0,
    idempotency_key: str | None = None,
) -> Iterator[Meter]:
    """Measure the model call inside the block: `ok` when it ends, `error` when it
    raises, `cancelled` when it is interrupted (GeneratorExit, KeyboardInterrupt)."""
    meter = Meter(purpose, provider, input_estimate=input_estimate, idempotency_key=idempotency_key)
    token = _current.set(meter)
    try:
        yield meter
    except Exception:
        meter.finish("error")
        raise
    except BaseException:
        meter.finish("cancelled")
        raise
    else:
        meter.finish("ok")
    finally:
        _current.reset(token)


def meter_completion(meter: Meter, completion: Any, status: str = "ok") -> None:
    """Finish `meter` with a chat `Completion`'s counts (the service's, or estimates)."""
    meter.finish(
        status,
        input_tokens=completion.prompt_tokens,
        output_tokens=completion.completion_tokens,
        estimated=completion.tokens_estimated,
        model=completion.model,
    )


def report_usage(*, input_tokens: Any = None, output_tokens: Any = None) -> None:
    """For providers: the service's own token counts for the call being metered."""
    meter = _current.get()
    if meter is None:
        return
    try:
        meter.report(
            input_tokens=None if input_tokens is None else int(input_tokens),
            output_tokens=None if output_tokens is None else int(output_tokens),
        )
    except (TypeError, ValueError):
        logger.warning("a provider reported unreadable usage: %r/%r", input_tokens, output_tokens)
