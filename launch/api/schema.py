"""OpenAPI: the error envelope on every operation (a drf-spectacular postprocessing hook).

Every view answers errors through `launch.api.exceptions.exception_handler`, so the error
responses follow from the shape of an operation, not from the view: documenting them here
once keeps generated clients and the schema fuzzer (tests/hardening) in step with what the
API really sends. A response a view documents itself keeps its description; only a missing
body is filled in with the envelope.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema

ERROR = "ErrorMessage"
VALIDATION = "ValidationErrorList"

SCHEMAS: dict[str, dict[str, Any]] = {
    ERROR: {
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    VALIDATION: {
        "type": "object",
        "properties": {
            "detail": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                        "msg": {"type": "string"},
                        "type": {"type": "string"},
                    },
                    "required": ["loc", "msg", "type"],
                },
            }
        },
        "required": ["detail"],
    },
}

DESCRIPTIONS = {
    400: "Malformed request (e.g. a body that does not parse).",
    401: "Not authenticated, or a bad or expired token.",
    403: "Authenticated, but not allowed.",
    404: "Absent, or not visible to you.",
    409: "Conflicts with the current state (e.g. a taken name).",
    413: "The request body is too large.",
    415: "Unsupported media type.",
    422: "Validation error.",
    429: "Throttled; retry after `Retry-After` seconds.",
    503: "A service Launch depends on (e.g. the database) is unavailable.",
}


def error_codes(method: str, operation: dict[str, Any]) -> set[int]:
    """The error statuses the exception handler can give this operation."""
    # Any request may carry a bad token (401) or meet a down database (503); permission
    # classes and CSRF checks may refuse any of them (403).
    codes = {401, 403, 503}
    locations = {parameter["in"] for parameter in operation.get("parameters", [])}
    has_body = "requestBody" in operation
    if "path" in locations or "header" in locations:  # X-Team-ID: a team not yours
        codes.add(404)
    if has_body or "query" in locations:
        codes.add(422)
    if has_body:
        codes |= {400, 413, 415}
    if method in ("post", "put", "patch"):
        codes.add(409)
    if {} in operation.get("security", [{}]):
        # Only the anonymous routes (login, sign-up, recovery) carry scoped throttles.
        codes.add(429)
    return codes


class LaunchAutoSchema(AutoSchema):
    """drf-spectacular's schema, with the `X-Team-ID` header on every operation of a
    view that works in the current team (`team_scoped = True`, as the base viewsets
    are)."""

    def get_override_parameters(self) -> list[Any]:
        parameters = list(super().get_override_parameters())
        if getattr(self.view, "team_scoped", False):
            from launch.api.teams import team_header

            parameters.append(team_header)
        return parameters


def local_only_endpoints(endpoints: list[Any], **kwargs: Any) -> list[Any]:
    """Leave out views marked `local_only` (a preprocessing hook) where they are off, so
    the schema documents exactly the routes that answer."""
    from django.conf import settings

    if settings.ENABLE_PRIVATE_API:
        return endpoints
    return [
        (path, regex, method, callback)
        for path, regex, method, callback in endpoints
        if not getattr(getattr(callback, "cls", None), "local_only", False)
    ]


def error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Add the envelope's error responses to every operation of the generated schema."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(SCHEMAS)
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            responses = operation.get("responses", {})
            codes = error_codes(method, operation) | {
                int(code) for code in responses if code.isdigit() and int(code) >= 400
            }
            for code in sorted(codes):
                name = VALIDATION if code == 422 else ERROR
                response = responses.setdefault(
                    str(code), {"description": DESCRIPTIONS.get(code, "")}
                )
                response.setdefault(
                    "content",
                    {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                )
    return result
