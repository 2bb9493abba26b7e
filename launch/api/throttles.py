"""Per-user rate limits for the requests that cost the most: search, chat, uploads.

Counted in the default cache, which every process shares in production (Redis; see
CACHES in the settings and launch/checks.py), so a limit holds however many processes
serve the API. A refused request is a 429 with `Retry-After` in the error envelope.
Rates come from `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`, read at request time so a
settings change (tests, reload) takes effect.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle


class UserScopedThrottle(SimpleRateThrottle):
    """Keyed by the user's id (by address for an anonymous caller, who is refused anyway)."""

    def get_rate(self) -> str | None:
        rates: dict[str, str | None] = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]
        return rates.get(self.scope)  # type: ignore[arg-type]

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        user = request.user
        ident = user.pk if user and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class SearchThrottle(UserScopedThrottle):
    scope = "search"


class ChatThrottle(UserScopedThrottle):
    """Messages and streamed messages share one budget: each is a model answer."""

    scope = "chat"


class UploadThrottle(UserScopedThrottle):
    scope = "upload"
