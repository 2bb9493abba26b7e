"""Server-sent events for a streamed answer.

Event order: one `references` event (the passages the model was given, known before it
starts), `delta` events as text arrives, then `done` with the saved message, or `error`
if the model fails mid-answer (nothing is saved then). A client that disconnects leaves
the text received so far saved as an assistant message marked `incomplete`.

The model's blocking stream runs in a worker thread that hands events over a queue, so
a disconnect can stop the worker between two chunks, and no database connection is held
while waiting: the database is touched only before the response starts (the view closes
its connection, which hands it back to the pool) and in the final save.

Two bodies, one per server interface, with the same events: `answer_events_sync`, a
plain generator, for WSGI (the shipped server, gunicorn's threaded workers: a stream
holds one thread, blocked on the queue with the GIL released); `answer_events`, an
async generator, for ASGI (`config/asgi.py`), where a sync generator would run each
chunk in the process's one thread for sync code and block every other request.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from asgiref.sync import sync_to_async

from apps.chat.errors import api_error
from apps.chat.serializers import ChatMessageSerializer
from apps.chat.services import AnswerPlan, answer_save
from launch.ai.chunking import estimate_tokens
from launch.ai.llm import Completion, LLMError, StreamDone, StreamEvent, TextDelta
from launch.ai.metering import Meter, meter_completion

_END = object()


class ModelStream:
    """Iterates a model's event stream in a daemon thread; `get()` blocks for the next."""

    def __init__(self, events: Iterator[StreamEvent], meter: Meter | None = None) -> None:
        self._events = events
        # The usage ledger's measure of this call, finished by the consumer (`_Answer`).
        self.meter = meter
        self._queue: queue.Queue[Any] = queue.Queue()
        self._stop = threading.Event()
        self.started = time.monotonic()
        threading.Thread(target=self._run, name="chat-model-stream", daemon=True).start()

    def get(self) -> StreamEvent | BaseException | object:
        """The next event, an exception the stream raised, or the end marker."""
        return self._queue.get()

    def stop(self) -> None:
        """Ask the worker to close the model's stream after the event it is waiting for."""
        self._stop.set()

    def _run(self) -> None:
        try:
            for event in self._events:
                self._queue.put(event)
                if self._stop.is_set():
                    break
        except Exception as exc:  # handed to the consumer, which decides
            self._queue.put(exc)
        finally:
            close: Callable[[], None] | None = getattr(self._events, "close", None)
            if close is not None:
                close()
            self._queue.put(_END)


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


def references_payload(plan: AnswerPlan) -> list[dict[str, Any]]:
    return [
        {
            "citation": source.number,
            "document_id": str(source.document_id),
            "chunk_id": str(source.chunk_id),
            "document_type": source.document_type,
            "filename": source.filename,
            "content_snippet": source.content,
            "relevance_score": source.score,
            "page_number": source.page_number,
            "page_total": source.page_total,
        }
        for source in plan.sources
    ]


def _save(
    plan: AnswerPlan, text: str, completion: Completion | None, started: float, incomplete: bool
) -> dict[str, Any]:
    message = answer_save(
        plan=plan,
        text=text,
        completion=completion,
        latency_ms=int((time.monotonic() - started) * 1000),
        incomplete=incomplete,
    )
    return dict(ChatMessageSerializer(message).data)


class _Answer:
    """The answer as streamed so far: turns model events into SSE text, then saves."""

    def __init__(self, plan: AnswerPlan, stream: ModelStream) -> None:
        self.plan = plan
        self.stream = stream
        self.parts: list[str] = []
        self.completion: Completion | None = None
        self.failed = False

    def render(self, item: Any) -> str | None:
        """The SSE text for one model event, if it has any. A model error becomes the
        `error` event and marks the answer failed (nothing is saved then)."""
        if isinstance(item, LLMError):
            error = api_error(item)
            self.failed = True
            return sse("error", {"status": error.status_code, "detail": str(error.detail)})
        if isinstance(item, BaseException):
            raise item
        if isinstance(item, TextDelta):
            self.parts.append(item.text)
            return sse("delta", {"text": item.text})
        if isinstance(item, StreamDone):
            self.completion = item.completion
        return None

    def save(self, *, incomplete: bool) -> dict[str, Any]:
        """Save what was said: the whole answer, or the text so far after a disconnect."""
        completion = None if incomplete else self.completion
        text = completion.text if completion else "".join(self.parts)
        meter = self.stream.meter
        if meter is not None and completion is not None:
            meter_completion(meter, completion)
        elif meter is not None:
            # Cancelled: the service reports nothing for a stream cut short, so the
            # prompt and the text so far are estimated.
            meter.finish(
                "cancelled" if incomplete else "ok",
                output_tokens=estimate_tokens(text),
                estimated=True,
            )
        return _save(self.plan, text, completion, self.stream.started, incomplete)

    def record_failure(self) -> None:
        """Record the model's mid-stream failure in the usage ledger."""
        if self.stream.meter is not None:
            self.stream.meter.finish("error")


def answer_events_sync(plan: AnswerPlan, stream: ModelStream, first: StreamEvent) -> Iterator[str]:
    """The SSE body under WSGI; `first` is the event received before the response
    started. A client that hangs up surfaces as GeneratorExit when the server closes the
    response after a failed write."""
    answer = _Answer(plan, stream)
    try:
        yield sse("references", references_payload(plan))
        item: Any = first
        while item is not _END:
            text = answer.render(item)
            if text is not None:
                yield text
            if answer.failed:
                answer.record_failure()
                return
            item = stream.get()
    except GeneratorExit:
        stream.stop()
        answer.save(incomplete=True)
        raise
    yield sse("done", answer.save(incomplete=False))


async def answer_events(
    plan: AnswerPlan, stream: ModelStream, first: StreamEvent
) -> AsyncIterator[str]:
    """The SSE body under ASGI; `first` is the event already received before the
    response started."""
    answer = _Answer(plan, stream)
    next_event = sync_to_async(stream.get, thread_sensitive=False)
    save = sync_to_async(answer.save)
    try:
        yield sse("references", references_payload(plan))
        item: Any = first
        while item is not _END:
            text = answer.render(item)
            if text is not None:
                yield text
            if answer.failed:
                await sync_to_async(answer.record_failure)()
                return
            item = await next_event()
    except (asyncio.CancelledError, GeneratorExit):
        stream.stop()
        await save(incomplete=True)
        raise
    yield sse("done", await save(incomplete=False))
