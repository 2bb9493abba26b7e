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


class PasswordCheckThrottle(LoginAccountThrottle):
    """A signed-in user's `current_password` checks spend the account's login budget.

    Changing the password, or the email, asks for the current password: with a stolen
    access token, these routes would otherwise be an unthrottled password oracle. They
    share the `login` scope and key, so guesses through login and through these routes
    add up per account. A request that checks no password (a `full_name` change) is not
    counted.
    """

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        data = request.data
        email = getattr(request.user, "email", None)
        if not email or not hasattr(data, "get") or not data.get("current_password"):
            return None
        ident = hashlib.sha256(normalize_email(email).encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": ident}


class SignupThrottle(_ScopedThrottle):
    scope = "signup"


class RecoveryThrottle(_ScopedThrottle):
    scope = "recovery"
