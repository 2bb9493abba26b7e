"""The error envelope: every API error is `{"detail": ...}`, never a stack trace.

- validation errors -> 422 `{"detail": [{"loc": ["body", "field"], "msg", "type"}]}`,
  the shape FastAPI clients already parse;
- everything else -> its status with `{"detail": "human message"}`, the domain errors of
  `launch.errors` (what services raise) by the table `DOMAIN_STATUS`;
- an unreachable database, or a statement stopped by `statement_timeout` -> 503;
- data the database refuses (NUL in text, a number out of range) -> 422, a fallback for
  what the parsers and serializers did not catch first;
- anything unexpected -> 500 with a generic message (the traceback goes to the log, not
  to the client).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, DataError, InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from launch import errors
from launch.db import is_statement_timeout

logger = logging.getLogger("launch.api")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A service Launch depends on is unavailable. Try again shortly."
    default_code = "unavailable"


class StatementTimeout(ServiceUnavailable):
    default_detail = (
        "The request took too long in the database and was stopped. "
        "Try again, or narrow the request."
    )
    default_code = "statement_timeout"


class ClientClosedRequest(exceptions.APIException):
    """The client left before the answer was ready (nginx's 499); nobody reads it, the
    access log does."""

    status_code = 499
    default_detail = "The client closed the request."
    default_code = "client_closed_request"


class InvalidText(exceptions.APIException):
    """Text no field may hold (NUL, unpaired surrogates): a 422 with ready-made items."""

    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "invalid_text"

    def __init__(self, items: list[dict[str, Any]]) -> None:
        super().__init__(detail="Invalid text.")
        self.items = items


DATA_REFUSED = [
    {
        "loc": ["body"],
        "msg": "A value cannot be stored (a NUL character, or a number out of range).",
        "type": "data_error",
    }
]


class QueryValidationError(exceptions.ValidationError):
    """A validation error about query parameters: reported with `loc: ["query", ...]`."""

    location = "query"


def validation_items(detail: Any, location: str, path: tuple[str | int, ...] = ()) -> list[dict]:
    """Flatten DRF's nested error detail into FastAPI-style `{loc, msg, type}` items."""
    if isinstance(detail, dict):
        items: list[dict] = []
        for key, value in detail.items():
            sub = () if key in ("non_field_errors", "__all__") else (key,)
            items.extend(validation_items(value, location, path + sub))
        return items
    if isinstance(detail, list):
        items = []
        for index, value in enumerate(detail):
            # A list of plain messages belongs to the same field; a list of dicts is a
            # list of nested objects, whose positions are part of the location.
            sub = (index,) if isinstance(value, dict | list) else ()
            items.extend(validation_items(value, location, path + sub))
        return items
    code = getattr(detail, "code", None) or "invalid"
    return [{"loc": [location, *path], "msg": str(detail), "type": str(code)}]


def _validation_response(detail: Any, location: str) -> Response:
    return Response(
        {"detail": validation_items(detail, location)},
        status=status.HTTP_422_UNPROCESSABLE_ENTITY,
    )


def _flat_message(detail: Any) -> str:
    if isinstance(detail, dict):
        if "detail" in detail:
            return _flat_message(detail["detail"])
        return "; ".join(_flat_message(v) for v in detail.values())
    if isinstance(detail, list):
        return "; ".join(_flat_message(v) for v in detail)
    return str(detail)


def _refused_input(exc: Exception) -> Response | None:
    """422 for text no field may hold, found by the parsers or (later) by PostgreSQL."""
    if isinstance(exc, InvalidText):
        return Response({"detail": exc.items}, status=exc.status_code)
    if isinstance(exc, DataError):
        logger.warning("data refused by the database: %s", exc)
        return Response({"detail": DATA_REFUSED}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
    return None


def _database_error(exc: DatabaseError | InterfaceError) -> exceptions.APIException:
    if isinstance(exc, OperationalError) and is_statement_timeout(exc):
        logger.warning("statement stopped: %s", exc)
        return StatementTimeout()
    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s", exc)
        return ServiceUnavailable("The database is unavailable. Try again shortly.")
    logger.exception("database error")
    return exceptions.APIException("Internal server error.")


# Most specific first: a subclass of a listed class takes its base's status.
DOMAIN_STATUS: dict[type[errors.DomainError], int] = {
    errors.Invalid: status.HTTP_400_BAD_REQUEST,
    errors.NotAuthenticated: status.HTTP_401_UNAUTHORIZED,
    errors.PermissionDenied: status.HTTP_403_FORBIDDEN,
    errors.NotFound: status.HTTP_404_NOT_FOUND,
    errors.Conflict: status.HTTP_409_CONFLICT,
    errors.Gone: status.HTTP_410_GONE,
    # A limit per time window resets: 429 and Retry-After. A limit on what a team holds
    # does not reset by waiting: 403, like any other refusal that repeating won't change.
    errors.RateLimited: status.HTTP_429_TOO_MANY_REQUESTS,
    errors.QuotaExceeded: status.HTTP_403_FORBIDDEN,
}


def quota_headers(exc: errors.QuotaExceeded) -> dict[str, str]:
    """Retry-After for a limit that resets; X-RateLimit-* for a rate (0 remaining)."""
    headers: dict[str, str] = {}
    if exc.resets_at is None:
        return headers
    reset = int(exc.resets_at.timestamp())
    if isinstance(exc, errors.RateLimited):
        headers["Retry-After"] = str(max(1, reset - int(time.time())))
    if exc.rate:
        headers.update(rate_limit_headers(limit=exc.limit, remaining=0, reset=reset))
    return headers


def rate_limit_headers(*, limit: int, remaining: int, reset: int) -> dict[str, str]:
    """The `X-RateLimit-*` trio; `reset` is when the window ends, in Unix seconds."""
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(0, remaining)),
        "X-RateLimit-Reset": str(reset),
    }


def _domain_response(exc: errors.DomainError, context: dict[str, Any]) -> Response:
    code = next(
        (code for cls, code in DOMAIN_STATUS.items() if isinstance(exc, cls)),
        status.HTTP_400_BAD_REQUEST,
    )
    headers: dict[str, str] = {}
    body: dict[str, Any] = {"detail": exc.message}
    if isinstance(exc, errors.QuotaExceeded):
        body.update(exc.fields())
        headers.update(quota_headers(exc))
    if isinstance(exc, errors.NotAuthenticated):
        # As DRF does for its own 401s: name the scheme, or answer 403 when none applies.
        view, request = context.get("view"), context.get("request")
        challenge = view.get_authenticate_header(request) if view and request else None
        if challenge:
            headers["WWW-Authenticate"] = challenge
        else:
            code = status.HTTP_403_FORBIDDEN
    set_rollback()
    return Response(body, status=code, headers=headers)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, errors.DomainError):
        return _domain_response(exc, context)
    refused = _refused_input(exc)
    if refused is not None:
        set_rollback()
        return refused
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        set_rollback()
        return _validation_response(detail, "body")
    if isinstance(exc, exceptions.ValidationError):
        set_rollback()
        return _validation_response(exc.detail, getattr(exc, "location", "body"))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        # Django's other guards on a request body (too many fields or files): the
        # client's fault, which Django itself answers with a 400.
        exc = exceptions.ParseError("The request is malformed or has too many fields.")
    elif isinstance(exc, DatabaseError | InterfaceError):
        exc = _database_error(exc)

    if isinstance(exc, exceptions.APIException):
        headers: dict[str, str] = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None) is not None:
            headers["Retry-After"] = str(max(1, int(exc.wait)))  # type: ignore[attr-defined]
        set_rollback()
        return Response(
            {"detail": _flat_message(exc.detail)}, status=exc.status_code, headers=headers
        )

    logger.exception("unhandled error", exc_info=exc)
    set_rollback()
    return Response(
        {"detail": "Internal server error."}, status=status.HTTP_500_INTERNAL_SERVER_ERROR
    )
