"""Request ids, and the last line of defence for API errors outside DRF's handler."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from http import HTTPStatus

from django.core.exceptions import RequestDataTooBig
from django.db import DataError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.response import HttpResponseBase

from launch.db import is_statement_timeout

# launch.logging imports this module while logging is configured, before the apps are
# loaded: what needs DRF is imported where it is used.

logger = logging.getLogger("launch.api")
request_id_var: ContextVar[str] = ContextVar("request_id", default="")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Takes a sane `X-Request-ID` from the client or a proxy, or makes one; echoes it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class InputGuardMiddleware:
    """Refuses a NUL character in the path or the query string (`%00`), which PostgreSQL
    cannot hold in text: 422 in the API's envelope, a plain 400 elsewhere (the admin).
    Bodies are checked by the parsers (launch/api/parsers.py); a query string cannot
    carry an unpaired surrogate, because Django decodes it with replacement."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from launch.api.parsers import TextProblems

        problems = TextProblems("query")
        for key, values in request.GET.lists():
            problems.check(key, (key,))
            for value in values:
                problems.check(value, (key,))
        if "\x00" in request.path:
            problems.location = "path"
            problems.check(request.path, ())
        if not problems.items:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": problems.items}, status=422)
        return HttpResponseBadRequest("Null characters are not allowed.")


class ApiErrorMiddleware:
    """Turns errors that escape views on `/api/` (database down in middleware or auth,
    oversized bodies read outside DRF) into the JSON envelope instead of an HTML page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith("/api/"):
            return None
        from launch.api.exceptions import DATA_REFUSED, StatementTimeout

        if isinstance(exception, OperationalError) and is_statement_timeout(exception):
            logger.warning("statement stopped: %s", exception)
            return JsonResponse({"detail": str(StatementTimeout.default_detail)}, status=503)
        if isinstance(exception, DataError):
            logger.warning("data refused by the database: %s", exception)
            return JsonResponse({"detail": DATA_REFUSED}, status=422)
        if isinstance(exception, OperationalError | InterfaceError):
            logger.warning("database unavailable: %s", exception)
            return JsonResponse(
                {"detail": "The database is unavailable. Try again shortly."}, status=503
            )
        if isinstance(exception, RequestDataTooBig):
            return JsonResponse({"detail": "The request body is too large."}, status=413)
        return None


_MESSAGES = {
    400: "Bad request.",
    403: "Forbidden.",
    404: "Not found.",
    413: "The request body is too large.",
    500: "Internal server error.",
}


class ApiJsonOnlyMiddleware:
    """Every error answer on `/api/` is the JSON envelope, whoever produced it: Django's
    DEBUG pages (unknown route, crash, bad Host), or a plain Django view's 405 or CSRF page.
    DRF's answers are JSON already and pass untouched. Outermost but for the request id,
    so it sees what every other layer answered; it keeps their headers and cookies."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if response.status_code < 400 or not request.path.startswith("/api/"):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        status = response.status_code
        if status == 405:
            detail = f'Method "{request.method}" not allowed.'
        else:
            detail = _MESSAGES.get(status) or _phrase(status)
        replacement = JsonResponse({"detail": detail}, status=status)
        for header, value in response.items():
            if header.lower() not in ("content-type", "content-length"):
                replacement[header] = value
        replacement.cookies = response.cookies
        return replacement


def _phrase(status: int) -> str:
    try:
        return f"{HTTPStatus(status).phrase}."
    except ValueError:
        return "Error."
