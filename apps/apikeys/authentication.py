"""`Authorization: Bearer lk_...` or `X-API-Key: lk_...`: a request made by a program.

Sits before the JWT class in DEFAULT_AUTHENTICATION_CLASSES. A bearer value that does
not start with `lk_` (a JWT starts with `eyJ`) is left to the JWT class; anything this
class takes is either a valid key or a 401 in the error envelope, the same for an
unknown, malformed, expired or revoked key, or an inactive owner, except that a caller
who presents the full valid secret of an expired or revoked key is told which.

Nothing caches a valid key: every request reads the key's row (one indexed query, with
its user, the same one query the JWT path spends on the user), so a revocation counts
from the next request. `request.auth` is the ApiKey; launch.api.permissions limits the
request's model permissions to its scopes. A team key costs one more query (the
creator's membership): it works only while its creator is in the team with
`teams.manage_api_keys`, and `request.auth.team_id` names the team it works in (None for
a personal key). Every request counts against the per-minute
rate of its team's plan (apps.plans.quotas), refused with a 429 past it.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apps.apikeys.keys import looks_like_key, matches, prefix_of
from apps.apikeys.models import ApiKey
from apps.plans.quotas import api_key_request_admit

HEADER = "X-API-Key"
INVALID = "Invalid API key."
# Compared against when no row matches, so an unknown prefix costs the same HMAC and
# comparison as a known one.
_NO_HASH = "0" * 64


class ApiKeyAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        raw = self._presented(request)
        if raw is None:
            return None
        key = self._verified(raw)
        user = key.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(INVALID, code="api_key_invalid")
        now = timezone.now()
        status = key.status_at(now)
        if status != "active":
            raise exceptions.AuthenticationFailed(
                f"API key has {'been revoked' if status == 'revoked' else 'expired'}.",
                code=f"api_key_{status}",
            )
        # Imported here: DRF loads this class while `rest_framework.views` is still being
        # imported, and the services import views (through the rbac services).
        from apps.apikeys.services import apikey_record_use, team_key_usable

        if not team_key_usable(key):
            raise exceptions.AuthenticationFailed(
                "API key no longer works: its creator left the team or may no longer "
                "manage its keys.",
                code="api_key_orphaned",
            )
        apikey_record_use(key=key, address=BaseThrottle().get_ident(request), now=now)
        # The team's plan limits its keys' requests per minute: a 429 in the envelope
        # past it; the window goes on the request for the X-RateLimit-* headers.
        request._request.rate_limit = api_key_request_admit(request, user=user, key=key)  # type: ignore[attr-defined]
        return user, key

    def _presented(self, request: Request) -> str | None:
        """The key string, or None when the request carries no API key."""
        header_key = request.META.get("HTTP_X_API_KEY")
        authorization = get_authorization_header(request).split()
        bearer = None
        if len(authorization) == 2 and authorization[0].lower() == b"bearer":
            try:
                bearer = authorization[1].decode()
            except UnicodeDecodeError:
                bearer = None
        if header_key is not None:
            if authorization:
                raise exceptions.AuthenticationFailed(
                    f"Send either {HEADER} or Authorization, not both.", code="api_key_ambiguous"
                )
            return str(header_key).strip()
        if bearer is not None and looks_like_key(bearer):
            return bearer
        return None

    def _verified(self, raw: str) -> ApiKey:
        prefix = prefix_of(raw)
        key = None
        if prefix is not None:
            key = ApiKey.objects.select_related("user", "team").filter(prefix=prefix).first()
        if key is None:
            matches(raw, _NO_HASH)  # the same work as a real comparison; always False
            raise exceptions.AuthenticationFailed(INVALID, code="api_key_invalid")
        if not matches(raw, key.secret_hash):
            raise exceptions.AuthenticationFailed(INVALID, code="api_key_invalid")
        return key

    def authenticate_header(self, request: Request) -> str:
        # The first class's header decides that a refusal is a 401 (not a 403); the JWT
        # class after this one answers with the same.
        return 'Bearer realm="api"'


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """OpenAPI: a personal API key (`lk_...`), as a bearer token or in `X-API-Key`."""

    target_class = ApiKeyAuthentication
    name = ["ApiKeyBearer", "ApiKeyHeader"]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        about = (
            "A personal API key (`lk_` + 8 + `_` + 40 characters) from POST /api/v1/api-keys, "
            "limited to its scopes and to what its creator holds at the time of the request. "
            "Refused (403) by /api-keys, PATCH and DELETE /users/me, PATCH "
            "/users/me/password, writes to /roles, PUT /{resource}/{id}/shares, and the "
            "endpoints reserved to superusers or staff."
        )
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "lk_...", "description": about},
            {"type": "apiKey", "in": "header", "name": HEADER, "description": about},
        ]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return [{"ApiKeyBearer": []}, {"ApiKeyHeader": []}]
