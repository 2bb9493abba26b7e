"""`X-RateLimit-Limit`, `-Remaining` and `-Reset` on responses to which a rate applied.

Whatever counted the request (apps.plans.quotas) leaves its `Window` on the request as
`rate_limit`; a refusal carries the headers already (launch.api.exceptions).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from launch.api.exceptions import rate_limit_headers


class RateLimitHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        window = getattr(request, "rate_limit", None)
        if window is not None and "X-RateLimit-Limit" not in response:
            headers = rate_limit_headers(
                limit=window.limit,
                remaining=window.remaining,
                reset=int(window.resets_at.timestamp()),
            )
            for name, value in headers.items():
                response[name] = value
        return response
