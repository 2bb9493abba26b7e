"""Server-sent events for a streamed answer.

Event order: one `references` event (the passages the model was given, known before it
starts), `delta` events as text arrives, then `done` with the saved message, or `error`
if the model fails mid-answer (nothing is saved then). A client that disconnects leaves
the text received so far saved as an assistant message marked `incomplete`.

The model's blocking stream runs in a worker thread that hands events over a queue, so
the event loop never blocks, a disconnect can stop the worker between two chunks, and
no database connection is held while waiting: the database is touched only before the
response starts and in the final save, each through `sync_to_async`.
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
from launch.ai.llm import Completion, LLMError, StreamDone, StreamEvent, TextDelta

_END = object()


class ModelStream:
    """Iterates a model's event stream in a daemon thread; `get()` blocks for the next."""

    def __init__(self, events: Iterator[StreamEvent]) -> None:
        self._events = events
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


async def answer_events(
    plan: AnswerPlan, stream: ModelStream, first: StreamEvent
) -> AsyncIterator[str]:
    """The SSE body; `first` is the event already received before the response started."""
    parts: list[str] = []
    completion: Completion | None = None
    next_event = sync_to_async(stream.get, thread_sensitive=False)
    try:
        yield sse("references", references_payload(plan))
        item: Any = first
        while item is not _END:
            if isinstance(item, LLMError):
                error = api_error(item)
                yield sse("error", {"status": error.status_code, "detail": str(error.detail)})
                return
            if isinstance(item, BaseException):
                raise item
            if isinstance(item, TextDelta):
                parts.append(item.text)
                yield sse("delta", {"text": item.text})
            elif isinstance(item, StreamDone):
                completion = item.completion
            item = await next_event()
    except (asyncio.CancelledError, GeneratorExit):
        stream.stop()
        await sync_to_async(_save)(plan, "".join(parts), None, stream.started, True)
        raise
    saved = await sync_to_async(_save)(
        plan, completion.text if completion else "".join(parts), completion, stream.started, False
    )
    yield sse("done", saved)
