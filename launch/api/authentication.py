"""JWT from the `Authorization: Bearer` header or from the httpOnly `access_token` cookie.

The cookie path is what a browser sends on its own, so unsafe methods authenticated by
the cookie must also pass Django's CSRF check (as DRF's SessionAuthentication does). The
header path needs no CSRF check: a browser never adds that header cross-site.

simplejwt loads the user on every request (one primary-key query). That is deliberate: a
deactivated user, or one whose password changed (the token's `hash_password` claim),
is refused at once instead of at the access token's expiry.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http.response import HttpResponseBase
from django.middleware.csrf import CsrfViewMiddleware
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication as BaseJWTAuthentication

ACCESS_COOKIE = "access_token"
REFRESH_COOKIE = "refresh_token"


class _CSRFCheck(CsrfViewMiddleware):
    def _reject(self, request: Any, reason: str) -> Any:
        return reason


class JWTAuthentication(BaseJWTAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = self.get_header(request)
        if header is not None:
            raw = self.get_raw_token(header)
            from_cookie = False
        else:
            raw = request.COOKIES.get(ACCESS_COOKIE)
            from_cookie = True
        if not raw:
            return None
        if isinstance(raw, str):
            raw = raw.encode()
        validated = self.get_validated_token(raw)
        user = self.get_user(validated)
        if from_cookie:
            self._enforce_csrf(request)
        return user, validated

    def _enforce_csrf(self, request: Request) -> None:
        check = _CSRFCheck(lambda r: None)  # type: ignore[arg-type]
        check.process_request(request)
        reason = check.process_view(request, None, (), {})  # type: ignore[arg-type]
        if reason:
            raise exceptions.PermissionDenied(f"CSRF failed: {reason}")


def cookie_settings() -> dict[str, Any]:
    """httpOnly (no script can read them), Secure outside DEBUG, SameSite (Lax default)."""
    return {
        "httponly": True,
        "secure": bool(getattr(settings, "AUTH_COOKIE_SECURE", True)),
        "samesite": getattr(settings, "AUTH_COOKIE_SAMESITE", "Lax"),
        "path": "/",
    }


def set_auth_cookies(
    response: HttpResponseBase, *, access: str, refresh: str, access_age: int, refresh_age: int
) -> None:
    response.set_cookie(ACCESS_COOKIE, access, max_age=access_age, **cookie_settings())
    response.set_cookie(REFRESH_COOKIE, refresh, max_age=refresh_age, **cookie_settings())


def clear_auth_cookies(response: HttpResponseBase) -> None:
    options = cookie_settings()
    for name in (ACCESS_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(name, path=options["path"], samesite=options["samesite"])


class JWTScheme(OpenApiAuthenticationExtension):
    """OpenAPI: the bearer token (obtained with the OAuth2 password flow, so Swagger UI's
    Authorize button logs in) or, alternatively, the access-token cookie."""

    target_class = JWTAuthentication
    name = ["OAuth2PasswordBearer", "CookieAuth"]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        password_flow = {"tokenUrl": "/api/v1/login/access-token", "scopes": {}}
        return [
            {"type": "oauth2", "flows": {"password": password_flow}},
            {"type": "apiKey", "in": "cookie", "name": ACCESS_COOKIE},
        ]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return [{"OAuth2PasswordBearer": []}, {"CookieAuth": []}]
