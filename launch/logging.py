"""Structured logs: a JSON formatter, a per-request access line, optional Sentry.

Every line carries the request id (from `RequestIdMiddleware`) and, once the request has
authenticated, the user id, so one request can be followed across log lines and matched
with its activity entries (whose `cid` is the same id). The access line adds method, path,
status and duration, and the prefix of the API key a program used (`api_key`).
`LOG_FORMAT=json` (the default when DEBUG is off) selects the JSON formatter; `plain`
keeps human-readable lines for a terminal.

Tasks carry the id too: a task published while a request is served takes its id in a
message header (`TASK_HEADER`), and the worker sets it around the task's run, so a
document's processing lines join the upload request that queued it. Workers log through
`LOGGING` as the web processes do (config/celery.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty

from launch.middleware import request_id_var

access_logger = logging.getLogger("launch.request")
current_request_var: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)

# Attributes every LogRecord has; anything else was passed with `extra=` and is kept.
_RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def _resolved_user_id(request: HttpRequest | None) -> str | None:
    """The authenticated user's id, without forcing authentication from inside a log call
    (that could query the database, or recurse into logging)."""
    if request is None:
        return None
    user = request.__dict__.get("user")
    wrapped = getattr(user, "_wrapped", user)  # Django's lazy request.user
    if wrapped is None or wrapped is empty or not getattr(wrapped, "is_authenticated", False):
        return None
    return str(wrapped.pk)


def _api_key_prefix(request: HttpRequest) -> str | None:
    """The visible prefix of the API key the request authenticated with (never the key),
    so a program's requests can be told apart from its user's own."""
    auth = request.__dict__.get("auth")  # set by DRF once authenticated
    if not getattr(auth, "limits_scopes", False):
        return None
    return str(auth.prefix)  # type: ignore[union-attr]


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request and user ids,
    every `extra=` field, and the traceback as a string."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        user_id = _resolved_user_id(current_request_var.get())
        if user_id:
            entry["user_id"] = user_id
        for key, value in vars(record).items():
            if key not in _RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class RequestLogMiddleware:
    """Logs one line per request on `launch.request`: method, path, status, duration, user.

    Sits right after `RequestIdMiddleware`, so the duration covers every other middleware.
    The user is read after the response: DRF's token authentication stores the user on
    the Django request, so API requests are attributed too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_request_var.set(request)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            access_logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "request_id": getattr(request, "request_id", ""),
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "user_id": _resolved_user_id(request),
                    "api_key": _api_key_prefix(request),
                },
            )
            return response
        finally:
            current_request_var.reset(token)


TASK_HEADER = "launch_request_id"
_task_tokens: dict[str, Token[str]] = {}


def carry_request_id(headers: dict[str, Any] | None) -> None:
    """Before a task is published: the current request's id goes into its headers."""
    request_id = request_id_var.get()
    if request_id and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def adopt_request_id(task_id: str, request: Any) -> None:
    """Before a task runs: its log lines carry the id its message brought, if any."""
    request_id = request.get(TASK_HEADER)
    if request_id:
        _task_tokens[task_id] = request_id_var.set(str(request_id))


def drop_request_id(task_id: str) -> None:
    """After a task ran: the next task in this process starts without an id."""
    token = _task_tokens.pop(task_id, None)
    if token is not None:
        request_id_var.reset(token)


def configure_sentry(*, dsn: str, environment: str, traces_sample_rate: float) -> bool:
    """Start Sentry's SDK when a DSN is given (errors from Django and Celery, no personal
    data). Returns whether it started; without a DSN Launch never imports the SDK."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration()],
    )
    return True
