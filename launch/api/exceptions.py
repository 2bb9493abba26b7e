"""The error envelope: every API error is `{"detail": ...}`, never a stack trace.

- validation errors -> 422 `{"detail": [{"loc": ["body", "field"], "msg", "type"}]}`,
  the shape FastAPI clients already parse;
- everything else -> its status with `{"detail": "human message"}`;
- an unreachable database -> 503, anything unexpected -> 500 with a generic message (the
  traceback goes to the log, not to the client).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

logger = logging.getLogger("launch.api")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A service Launch depends on is unavailable. Try again shortly."
    default_code = "unavailable"


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


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
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
    elif isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s", exc)
        exc = ServiceUnavailable("The database is unavailable. Try again shortly.")
    elif isinstance(exc, DatabaseError):
        logger.exception("database error")
        exc = exceptions.APIException("Internal server error.")

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
