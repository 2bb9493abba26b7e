"""JWT from the `Authorization: Bearer` header or from the httpOnly auth cookies.

The header path is for programs: a browser never adds that header on its own, so it
needs no CSRF defence and never touches cookies.

The cookie path is what a browser front end uses (the upstream SPA sends nothing else):

- unsafe methods pass the origin check first (`launch.api.origins`): 403 from a page
  that is not trusted, before any token is looked at or renewed;
- an access cookie that is missing (the browser drops it when it expires) or no longer
  valid is renewed from the `refresh_token` cookie on the same request
  (`apps.users.tokens.token_renew`: rotation and blacklist as `/login/refresh`), and the
  response carries the new cookies (`AuthCookieMiddleware`). So a session lasts while
  the user works, and ends when the refresh token is revoked: logout, password change,
  deactivation, deletion;
- a cookie session that cannot be renewed answers 401 and clears both cookies, so the
  browser is anonymous on its next request instead of stuck with a dead cookie.

The user is checked on every request. That is deliberate: a deactivated user, or one
whose password changed (the token's `hash_password` claim) or whose tokens were revoked
(`ver`), is refused at once instead of at the access token's expiry. Its row comes from
the shared cache while no write has touched it (`launch.rights_cache.user_for_token`),
else from the database.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication as BaseJWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

from launch.api.origins import cookie_write_refusal
from launch.errors import NotAuthenticated
from launch.rights_cache import user_for_token

ACCESS_COOKIE = "access_token"
REFRESH_COOKIE = "refresh_token"
# Set on the Django request by authentication, applied to the response by the middleware.
_RENEWED = "_launch_renewed_pair"
_CLEAR = "_launch_clear_auth_cookies"
# The user's `token_version` when the token was issued (apps/users/tokens.py); revoking a
# user's tokens bumps it, so older tokens stay refused after a reactivation.
TOKEN_VERSION_CLAIM = "ver"  # noqa: S105 - a claim name


class JWTAuthentication(BaseJWTAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = self.get_header(request)
        if header is None:
            return self._authenticate_cookies(request)
        raw = self.get_raw_token(header)
        if raw is None:
            return None
        validated = self.get_validated_token(raw)
        return self.get_user(validated), validated

    def get_user(self, validated_token: Any) -> Any:
        """simplejwt's checks (the user exists and is active, the password is the one the
        token was issued under), on the user row from `launch.rights_cache` (issue 12: a
        warm request reads its user and rights in one cache round trip, no query; any
        change to the row invalidates it), then the token version."""
        try:
            user_id = validated_token[jwt_settings.USER_ID_CLAIM]
        except KeyError as error:
            raise InvalidToken("Token contained no recognizable user identification") from error
        found = user_for_token(user_id)
        if found is None:
            raise exceptions.AuthenticationFailed("User not found", code="user_not_found")
        user, password_md5 = found
        if jwt_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise exceptions.AuthenticationFailed("User is inactive", code="user_inactive")
        if (
            jwt_settings.CHECK_REVOKE_TOKEN
            and validated_token.get(jwt_settings.REVOKE_TOKEN_CLAIM) != password_md5
        ):
            raise exceptions.AuthenticationFailed(
                "The user's password has been changed.", code="password_changed"
            )
        if validated_token.get(TOKEN_VERSION_CLAIM, 0) != getattr(user, "token_version", 0):
            raise exceptions.AuthenticationFailed("Token has been revoked.", code="token_revoked")
        return user

    def _authenticate_cookies(self, request: Request) -> tuple[Any, Any] | None:
        access = request.COOKIES.get(ACCESS_COOKIE)
        refresh = request.COOKIES.get(REFRESH_COOKIE)
        if not access and not refresh:
            return None
        refusal = cookie_write_refusal(request)
        if refusal:
            raise exceptions.PermissionDenied(refusal)
        if access:
            try:
                validated = self.get_validated_token(access.encode())
                return self.get_user(validated), validated
            except exceptions.AuthenticationFailed:
                if not refresh:
                    setattr(request._request, _CLEAR, True)
                    raise
        return self._renew(request, refresh or "")

    def _renew(self, request: Request, raw: str) -> tuple[Any, Any]:
        from apps.users.tokens import token_renew

        try:
            renewal = token_renew(raw=raw)
        except NotAuthenticated as error:
            setattr(request._request, _CLEAR, True)
            # DRF's own class: authentication marks the request anonymous and answers
            # with this authenticator's challenge.
            raise exceptions.AuthenticationFailed(error.message, code=error.code) from error
        if renewal.pair is None:
            # A concurrent request rotated this refresh token a moment ago; its response
            # carries the new cookies. This one is served without touching them.
            return renewal.user, AccessToken.for_user(renewal.user)
        setattr(request._request, _RENEWED, renewal.pair)
        return renewal.user, AccessToken(renewal.pair.access_token)  # type: ignore[arg-type]


class AuthCookieMiddleware:
    """Writes the cookies that authentication decided on: a renewed pair, or clearing a
    session that could not be renewed. Runs for every response, whatever its status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        pair = getattr(request, _RENEWED, None)
        if pair is not None:
            set_auth_cookies(
                response,
                access=pair.access_token,
                refresh=pair.refresh_token,
                access_age=pair.expires_in,
                refresh_age=pair.refresh_expires_in,
            )
        elif getattr(request, _CLEAR, False):
            clear_auth_cookies(response)
        return response


def cookie_settings() -> dict[str, Any]:
    """httpOnly (no script can read them), Secure outside DEBUG, SameSite (Lax default)."""
    return {
        "httponly": True,
        "secure": bool(settings.AUTH_COOKIE_SECURE),
        "samesite": settings.AUTH_COOKIE_SAMESITE,
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
