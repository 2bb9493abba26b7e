"""Throttles for the endpoints that take a password or create accounts.

Login is limited twice: per account (scope `login`, keyed by the normalised email, so
a password-guessing attack on one account is slow from any number of addresses) and per
client address (scope `login_address`, so one address cannot sweep many accounts).
Rates come from `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`, read at request time so a
settings change (tests, reload) takes effect.
"""

from __future__ import annotations

import hashlib
from typing import Any

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from apps.users.models import normalize_email


class _ScopedThrottle(SimpleRateThrottle):
    def get_rate(self) -> str | None:
        rates: dict[str, str | None] = api_settings.DEFAULT_THROTTLE_RATES  # type: ignore[assignment]
        return rates[self.scope]  # type: ignore[index]

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginAddressThrottle(_ScopedThrottle):
    scope = "login_address"


class LoginAccountThrottle(_ScopedThrottle):
    scope = "login"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        data = request.data
        username = data.get("username") if hasattr(data, "get") else None
        if not isinstance(username, str) or not username.strip():
            return None  # nothing to key on; the request fails validation anyway
        ident = hashlib.sha256(normalize_email(username).encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class SignupThrottle(_ScopedThrottle):
    scope = "signup"


class RecoveryThrottle(_ScopedThrottle):
    scope = "recovery"
