"""A real, minimal OpenAI-compatible HTTP server on loopback, for tests.

Tests talk to it over real sockets, so clients are exercised end to end (headers,
batching, retries, timeouts, streaming) rather than through patched functions::

    with LLMServer(dimensions=8) as server:
        server.fail_next(429, times=1, retry_after=0)
        provider = OpenAIEmbeddingProvider(
            base_url=server.url, model="m", dimensions=8, timeout=5, batch_size=64, max_retries=3
        )
        provider.embed_documents(["a", "b"])
        assert len(server.requests) == 2

Endpoints (under ``/v1``):

- ``POST /embeddings``: deterministic unit vectors derived from each input's text
  (:meth:`LLMServer.embedding_for`), ``dimensions`` from the request or the server.
- ``POST /chat/completions``: a JSON completion, or with ``"stream": true`` server-sent
  events ending in ``data: [DONE]``; a final usage chunk is sent when the request asks for
  it with ``stream_options: {"include_usage": true}``, as OpenAI does.
- ``GET /models``: the one model, so clients can check connectivity.

Every request is recorded (:attr:`LLMServer.requests`). Faults are queued and consumed
by the next requests in order, whatever their path: :meth:`fail_next`,
:meth:`stall_next`, :meth:`malformed_next`, :meth:`disconnect_next`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

ChatReply = str | Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it. Header names are lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes = field(repr=False)


@dataclass(frozen=True)
class _Fault:
    kind: str  # "status" | "stall" | "malformed" | "disconnect"
    status: int = 500
    retry_after: str | None = None
    seconds: float = 0.0
    body: bytes | None = None


class LLMServer:
    """An OpenAI-compatible server in a background thread; see the module docstring.

    ``api_key``, when set, is required as ``Authorization: Bearer <key>`` (401 otherwise).
    ``chat_reply`` is the assistant's answer, or a function of the request body; by
    default the server echoes the last user message. ``reverse_embeddings`` returns
    embedding items in reverse order, to check that clients sort by ``index``.
    ``stream_delay`` pauses between streamed chunks.
    """

    def __init__(
        self,
        *,
        dimensions: int = 8,
        model: str = "launch-test-model",
        api_key: str | None = None,
        chat_reply: ChatReply | None = None,
        reverse_embeddings: bool = False,
        stream_delay: float = 0.0,
    ) -> None:
        self.dimensions = dimensions
        self.model = model
        self.api_key = api_key
        self.chat_reply: ChatReply | None = chat_reply
        self.reverse_embeddings = reverse_embeddings
        self.stream_delay = stream_delay
        self._requests: list[RecordedRequest] = []
        self._faults: deque[_Fault] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._ids = itertools.count(1)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> LLMServer:
        handler = type("BoundHandler", (_Handler,), {"llm": self})
        httpd = _QuietServer(("127.0.0.1", 0), handler)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll interval
            name="llm-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes stalled handlers
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> LLMServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no path)."""
        if self._httpd is None:
            raise RuntimeError("LLMServer is not running")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def url(self) -> str:
        """The OpenAI-style base URL, ``http://127.0.0.1:PORT/v1``."""
        return f"{self.base_url}/v1"

    # -- inspection and scripting -------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Recorded requests whose path ends with ``path`` (e.g. ``"/embeddings"``)."""
        return [request for request in self.requests if request.path.endswith(path)]

    def reset(self) -> None:
        """Forget recorded requests and pending faults."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()

    def fail_next(
        self,
        status: int = 500,
        times: int = 1,
        *,
        retry_after: float | str | None = None,
        body: bytes | None = None,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` (and ``Retry-After``, if given)."""
        header = None if retry_after is None else str(retry_after)
        self._queue(_Fault("status", status=status, retry_after=header, body=body), times)

    def stall_next(self, seconds: float, times: int = 1) -> None:
        """Wait ``seconds`` before answering the next ``times`` requests normally."""
        self._queue(_Fault("stall", seconds=seconds), times)

    def malformed_next(self, times: int = 1) -> None:
        """Answer the next ``times`` requests with 200 and a body that is not valid JSON."""
        self._queue(_Fault("malformed"), times)

    def disconnect_next(self, times: int = 1) -> None:
        """Close the connection without answering the next ``times`` requests."""
        self._queue(_Fault("disconnect"), times)

    @staticmethod
    def embedding_for(text: str, dimensions: int) -> list[float]:
        """The unit vector the server returns for ``text``: derived from SHA-256, stable."""
        values: list[float] = []
        for block in itertools.count():
            digest = hashlib.sha256(f"{block}:{text}".encode()).digest()
            for (number,) in struct.iter_unpack("<I", digest):
                values.append(number / 2**31 - 1.0)
            if len(values) >= dimensions:
                break
        values = values[:dimensions]
        norm = math.sqrt(sum(v * v for v in values)) or 1.0
        return [v / norm for v in values]

    def _queue(self, fault: _Fault, times: int) -> None:
        with self._lock:
            self._faults.extend([fault] * times)

    def _record(self, request: RecordedRequest) -> _Fault | None:
        with self._lock:
            self._requests.append(request)
            return self._faults.popleft() if self._faults else None

    def _sleep(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; True when the server should still answer."""
        return not self._stopping.wait(seconds)

    def _reply_text(self, body: dict[str, Any]) -> str:
        if callable(self.chat_reply):
            return self.chat_reply(body)
        if self.chat_reply is not None:
            return self.chat_reply
        user_messages = [m for m in body.get("messages", []) if m.get("role") == "user"]
        last = user_messages[-1].get("content", "") if user_messages else ""
        if isinstance(last, list):  # content parts
            last = " ".join(part.get("text", "") for part in last if isinstance(part, dict))
        return f"Echo: {last}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}-{next(self._ids)}"


def _count_tokens(text: str) -> int:
    return len(text.split())


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that time out or hang up are the point of several tests; stay quiet.
        pass


class _Handler(BaseHTTPRequestHandler):
    llm: LLMServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {name.lower(): value for name, value in self.headers.items()}
        fault = self.llm._record(RecordedRequest(self.command, self.path, headers, body, raw))
        if fault is not None and self._apply_fault(fault):
            return
        if self.llm.api_key and headers.get("authorization") != f"Bearer {self.llm.api_key}":
            self._error(401, "Incorrect API key provided", "invalid_api_key")
            return
        path = self.path.split("?", 1)[0].rstrip("/")
        if self.command == "GET" and path == "/v1/models":
            models = [{"id": self.llm.model, "object": "model", "owned_by": "launch-tests"}]
            self._json(200, {"object": "list", "data": models})
        elif self.command == "POST" and path == "/v1/embeddings":
            self._embeddings(body)
        elif self.command == "POST" and path == "/v1/chat/completions":
            self._chat(body)
        else:
            self._error(404, f"No route for {self.command} {path}", "not_found")

    def _apply_fault(self, fault: _Fault) -> bool:
        """Play a fault; True when the request is fully handled by it."""
        if fault.kind == "stall":
            return not self.llm._sleep(fault.seconds)
        if fault.kind == "disconnect":
            self.close_connection = True
            return True
        if fault.kind == "malformed":
            self._send(200, b'{"data": [{"index": 0, "embedding": [0.1,', "application/json")
            return True
        extra = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
        if fault.body is not None:
            self._send(fault.status, fault.body, "application/json", extra)
        else:
            self._error(fault.status, f"Scripted failure {fault.status}", "server_error", extra)
        return True

    def _embeddings(self, body: Any) -> None:
        if not isinstance(body, dict) or "input" not in body:
            self._error(400, "'input' is required", "invalid_request_error")
            return
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        if not all(isinstance(text, str) for text in inputs):
            self._error(
                400, "'input' must be a string or a list of strings", "invalid_request_error"
            )
            return
        dimensions = int(body.get("dimensions") or self.llm.dimensions)
        data = [
            {
                "object": "embedding",
                "index": index,
                "embedding": LLMServer.embedding_for(text, dimensions),
            }
            for index, text in enumerate(inputs)
        ]
        if self.llm.reverse_embeddings:
            data.reverse()
        tokens = sum(_count_tokens(text) for text in inputs)
        self._json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model", self.llm.model),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    def _chat(self, body: Any) -> None:
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._error(400, "'messages' is required", "invalid_request_error")
            return
        reply = self.llm._reply_text(body)
        prompt_tokens = sum(
            _count_tokens(m["content"])
            for m in body["messages"]
            if isinstance(m.get("content"), str)
        )
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": _count_tokens(reply),
            "total_tokens": prompt_tokens + _count_tokens(reply),
        }
        model = body.get("model", self.llm.model)
        completion_id = self.llm._next_id("chatcmpl")
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(completion_id, model, reply, usage if include_usage else None)
            return
        self._json(
            200,
            {
                "id": completion_id,
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply},
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
            },
        )

    def _stream(
        self, completion_id: str, model: str, reply: str, usage: dict[str, int] | None
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
            return {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        def events() -> Iterator[dict[str, Any]]:
            yield chunk({"role": "assistant", "content": ""}, None)
            for piece in re.findall(r"\S+\s*|\s+", reply):
                yield chunk({"content": piece}, None)
            yield chunk({}, "stop")
            if usage is not None:
                yield {**chunk({}, None), "choices": [], "usage": usage}

        try:
            for event in events():
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
                if self.llm.stream_delay and not self.llm._sleep(self.llm.stream_delay):
                    return
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away mid-stream

    def _error(
        self, status: int, message: str, code: str, headers: dict[str, str] | None = None
    ) -> None:
        error = {"message": message, "type": code, "param": None, "code": code}
        self._json(status, {"error": error}, headers)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json", headers)

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
