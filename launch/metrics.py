"""Prometheus metrics (prometheus_client), scraped at `/metrics` with a bearer token.

What is measured:

- HTTP requests by method, route template (`/api/v1/projects/{project_id}`, never the
  raw path, so the label set stays bounded) and status; their latency as a histogram
  (until the response is returned: a streamed answer's body is not timed);
- Celery task runs by task and final state, and failures by task (Celery's signals);
- ingestion throughput: documents finished by outcome, chunks stored;
- search latency by mode and semantic strategy (`exact`, `hnsw`, `exact-fallback`, or
  `none` for keyword search).

Processes: gunicorn runs several worker processes and Celery's prefork pool several
children, each with its own memory. With `PROMETHEUS_MULTIPROC_DIR` set (the shipped
gunicorn configuration and `make run` set it), every process writes its values to files
there and a scrape adds them up (prometheus_client's multi-process mode); the directory
must be emptied before the server starts (docker/gunicorn.conf.py does). Without it, one
process's own values are served.

`/metrics` answers 404 while `METRICS_TOKEN` is unset, so nothing is exposed by
accident, and 401 without `Authorization: Bearer <METRICS_TOKEN>`. A Celery worker on a
machine of its own serves its pool's values the same way on `METRICS_WORKER_PORT`
(any path; off when unset), so task and ingestion series are scraped wherever the
work runs.
"""

from __future__ import annotations

import hmac
import os
import re
import threading
import time
from collections.abc import Callable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from celery.signals import task_failure, task_postrun, worker_ready
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    make_wsgi_app,
    multiprocess,
)

HTTP_REQUESTS = Counter(
    "launch_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "launch_http_request_duration_seconds",
    "Seconds from a request's arrival to its response, by method and route template.",
    ["method", "route"],
)
TASK_RUNS = Counter(
    "launch_celery_task_runs",
    "Celery task runs that ended, by task and state (SUCCESS, FAILURE, RETRY, ...).",
    ["task", "state"],
)
TASK_FAILURES = Counter(
    "launch_celery_task_failures",
    "Celery task runs that raised, by task.",
    ["task"],
)
INGESTED_DOCUMENTS = Counter(
    "launch_ingestion_documents",
    "Documents whose processing ended, by outcome (completed, failed).",
    ["outcome"],
)
INGESTED_CHUNKS = Counter(
    "launch_ingestion_chunks",
    "Chunks of processed documents stored in the vector store.",
)
SEARCH_LATENCY = Histogram(
    "launch_search_duration_seconds",
    "Seconds a vector-store search took (query embedding included), by mode and strategy.",
    ["mode", "strategy"],
)

UNMATCHED = "<unmatched>"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_NAMED_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")


def route_template(request: HttpRequest) -> str:
    """The URL pattern that served `request`, as `/api/v1/projects/{project_id}`."""
    match = getattr(request, "resolver_match", None)
    if match is None or not match.route:
        return UNMATCHED
    route = _NAMED_GROUP.sub(r"{\1}", match.route)
    route = _CONVERTER.sub(r"{\1}", route)
    route = route.lstrip("^").removesuffix("$").removesuffix("/?").removesuffix("/")
    return "/" + route


class MetricsMiddleware:
    """Counts and times every request. Near the outside of the middleware stack (after
    the request id and, with replicas, the routing state), so the time covers the rest."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        route = route_template(request)
        # Any word is a method to HTTP: only the known ones become label values, so a
        # client cannot grow the series without bound.
        method = request.method if request.method in METHODS else "other"
        HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(method, route, str(response.status_code)).inc()
        return response


def registry() -> CollectorRegistry:
    """Every process's values in multi-process mode, else this process's."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    merged = CollectorRegistry()
    multiprocess.MultiProcessCollector(merged)
    return merged


NOT_FOUND = "Not found.\n"
UNAUTHORIZED = "A valid bearer token is required.\n"
CHALLENGE = ("WWW-Authenticate", 'Bearer realm="metrics"')


def refusal(authorization: str) -> int | None:
    """None when `authorization` carries METRICS_TOKEN; else the status to answer: 404
    while no token is configured (nothing is exposed by accident), 401 otherwise."""
    token = settings.METRICS_TOKEN
    if not token:
        return 404
    if not hmac.compare_digest(authorization.encode(), f"Bearer {token}".encode()):
        return 401
    return None


def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus exposition, for `Authorization: Bearer <METRICS_TOKEN>` only."""
    status = refusal(request.headers.get("Authorization", ""))
    if status == 404:
        raise Http404
    if status is not None:
        return HttpResponse(
            UNAUTHORIZED, status=status, content_type="text/plain", headers=dict([CHALLENGE])
        )
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Prometheus scrapes every few seconds: no line per scrape."""


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def _guarded_exposition(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
    status = refusal(str(environ.get("HTTP_AUTHORIZATION", "")))
    if status is None:
        return make_wsgi_app(registry())(environ, start_response)
    headers = [("Content-Type", "text/plain")]
    if status == 404:
        start_response("404 Not Found", headers)
        return [NOT_FOUND.encode()]
    start_response("401 Unauthorized", [*headers, CHALLENGE])
    return [UNAUTHORIZED.encode()]


def serve_worker_metrics(*, host: str, port: int) -> WSGIServer:
    """A Celery worker's own /metrics (its pool's values, through PROMETHEUS_MULTIPROC_DIR),
    behind the same token as the web's, on a thread of the worker's main process."""
    server = make_server(
        host, port, _guarded_exposition, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server


@worker_ready.connect(dispatch_uid="launch-metrics-worker-server")
def _worker_ready(**kwargs: Any) -> None:
    port = settings.METRICS_WORKER_PORT
    if port:
        serve_worker_metrics(host=str(settings.METRICS_WORKER_HOST), port=port)


def observe_search(*, mode: str, strategy: str | None, seconds: float) -> None:
    SEARCH_LATENCY.labels(mode, strategy or "none").observe(seconds)


def observe_ingestion(*, outcome: str, chunks: int = 0) -> None:
    INGESTED_DOCUMENTS.labels(outcome).inc()
    if chunks:
        INGESTED_CHUNKS.inc(chunks)


@task_postrun.connect(dispatch_uid="launch-metrics-task-run")
def _task_ran(sender: Any = None, state: str | None = None, **kwargs: Any) -> None:
    TASK_RUNS.labels(getattr(sender, "name", str(sender)), state or "UNKNOWN").inc()


@task_failure.connect(dispatch_uid="launch-metrics-task-failure")
def _task_failed(sender: Any = None, **kwargs: Any) -> None:
    TASK_FAILURES.labels(getattr(sender, "name", str(sender))).inc()
