"""Login, token refresh, logout and password recovery (upstream's `login` tag).

The endpoints that take credentials or a refresh token run no authentication
(`authentication_classes = []`): a stale or broken `access_token` cookie must not turn a
fresh login into a 401. So they apply the origin check themselves
(`launch.api.origins`): login, refresh and logout, which set or clear the auth cookies,
refuse a browser page that states an untrusted origin (login CSRF: a page elsewhere
must not sign the browser into an account of its choosing, nor out of one), and
refresh and logout take the full cookie-write check when they use the cookie.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed, NotFound, PermissionDenied
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.users import recovery
from apps.users.models import User, normalize_email
from apps.users.permissions import IsSuperuser
from apps.users.serializers import (
    LoginSerializer,
    MessageSerializer,
    NewPasswordSerializer,
    PrivateUserCreateSerializer,
    RefreshSerializer,
    TokenSerializer,
    UserPublicSerializer,
)
from apps.users.services import user_authenticate, user_create
from apps.users.throttles import LoginAccountThrottle, LoginAddressThrottle, RecoveryThrottle
from apps.users.tokens import TokenPair, token_pair_issue, token_refresh, token_revoke
from launch.api.authentication import REFRESH_COOKIE, clear_auth_cookies, set_auth_cookies
from launch.api.origins import cookie_write_refusal, stated_origin_refusal

EMAIL_PARAM = OpenApiParameter("email", OpenApiTypes.STR, OpenApiParameter.PATH)


def _token_response(pair: TokenPair) -> Response:
    response = Response(pair.as_dict())
    set_auth_cookies(
        response,
        access=pair.access_token,
        refresh=pair.refresh_token,
        access_age=pair.expires_in,
        refresh_age=pair.refresh_expires_in,
    )
    return response


class CredentialsView(APIView):
    """Runs no authentication. Its 401s still carry `WWW-Authenticate` (DRF turns a 401
    without that header into a 403)."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


def _refresh_token_of(request: Request) -> str | None:
    """The refresh token from the body, else from the cookie. Both views set or clear
    the auth cookies, so a page on an untrusted origin is refused either way (as login
    refuses it); using the cookie takes the full cookie-write check."""
    raw = _validated(RefreshSerializer, request.data).get("refresh_token")
    uses_cookie = not raw and bool(request.COOKIES.get(REFRESH_COOKIE))
    if uses_cookie:
        raw = request.COOKIES.get(REFRESH_COOKIE)
    refusal = cookie_write_refusal(request) if uses_cookie else stated_origin_refusal(request)
    if refusal:
        raise PermissionDenied(refusal)
    return str(raw) if raw else None


def _validated(serializer_class: type, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class LoginView(CredentialsView):
    throttle_classes = [LoginAddressThrottle, LoginAccountThrottle]

    @extend_schema(
        operation_id="login-login_access_token",
        tags=["login"],
        request={
            "application/x-www-form-urlencoded": LoginSerializer,
            "application/json": LoginSerializer,
        },
        responses={200: TokenSerializer},
        description="OAuth2 password grant (`username` is the email), as a form or JSON. "
        "Also sets the httpOnly `access_token` and `refresh_token` cookies.",
    )
    def post(self, request: Request) -> Response:
        refusal = stated_origin_refusal(request)
        if refusal:
            raise PermissionDenied(refusal)
        data = _validated(LoginSerializer, request.data)
        user = user_authenticate(email=data["username"], password=data["password"])
        return _token_response(token_pair_issue(user=user))


class RefreshView(CredentialsView):
    @extend_schema(
        operation_id="login-refresh_token",
        tags=["login"],
        request=RefreshSerializer,
        responses={200: TokenSerializer},
        description="Exchange a refresh token (body or cookie) for a new pair. The old "
        "refresh token is revoked: using it again is a 401.",
    )
    def post(self, request: Request) -> Response:
        raw = _refresh_token_of(request)
        if not raw:
            raise AuthenticationFailed("No refresh token was provided.")
        return _token_response(token_refresh(raw=raw))


class LogoutView(CredentialsView):
    @extend_schema(
        operation_id="login-logout",
        tags=["login"],
        request=RefreshSerializer,
        responses={200: MessageSerializer},
        description="Revoke the refresh token (body or cookie) and clear both cookies. "
        "Idempotent: an already invalid token is not an error.",
    )
    def post(self, request: Request) -> Response:
        raw = _refresh_token_of(request)
        if raw:
            token_revoke(raw=raw)
        response = Response({"message": "Logged out successfully"})
        clear_auth_cookies(response)
        return response


class PrivateUserCreateView(CredentialsView):
    """Upstream's `POST /private/users/`, which its front end's end-to-end tests use to
    make accounts. Exists only where `ENABLE_PRIVATE_API` is on (the default under
    DEBUG); elsewhere every method answers 404, and the schema leaves it out."""

    local_only = True

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if not settings.ENABLE_PRIVATE_API:
            raise NotFound()
        super().initial(request, *args, **kwargs)

    @extend_schema(
        operation_id="private-create_user",
        tags=["private"],
        request=PrivateUserCreateSerializer,
        responses={201: UserPublicSerializer},
        description="Create an active user without signing in (local development and "
        "end-to-end tests only). `is_verified` is accepted and ignored.",
    )
    def post(self, request: Request) -> Response:
        data = _validated(PrivateUserCreateSerializer, request.data)
        user = user_create(
            email=data["email"], password=data["password"], full_name=data["full_name"]
        )
        return Response(UserPublicSerializer(user).data, status=status.HTTP_201_CREATED)


class TestTokenView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="login-test_token",
        tags=["login"],
        request=None,
        responses={200: UserPublicSerializer},
    )
    def post(self, request: Request) -> Response:
        return Response(UserPublicSerializer(request.user).data)


class PasswordRecoveryView(CredentialsView):
    throttle_classes = [RecoveryThrottle]

    @extend_schema(
        operation_id="login-recover_password",
        tags=["login"],
        request=None,
        parameters=[EMAIL_PARAM],
        responses={200: MessageSerializer},
        description="Email a single-use reset link. The answer is the same whether or "
        "not the email belongs to an account.",
    )
    def post(self, request: Request, email: str) -> Response:
        recovery.password_recovery_request(email=email)
        return Response(
            {"message": "If that email belongs to an account, a recovery email has been sent"}
        )


class ResetPasswordView(CredentialsView):
    throttle_classes = [RecoveryThrottle]

    @extend_schema(
        operation_id="login-reset_password",
        tags=["login"],
        request=NewPasswordSerializer,
        responses={200: MessageSerializer},
    )
    def post(self, request: Request) -> Response:
        data = _validated(NewPasswordSerializer, request.data)
        recovery.password_reset(token=data["token"], new_password=data["new_password"])
        return Response({"message": "Password updated successfully"})


class PasswordRecoveryHtmlView(APIView):
    permission_classes = [IsSuperuser]

    @extend_schema(
        operation_id="login-recover_password_html_content",
        tags=["login"],
        request=None,
        parameters=[EMAIL_PARAM],
        responses={
            (200, "text/html"): OpenApiResponse(OpenApiTypes.STR, "The email's HTML."),
        },
    )
    def post(self, request: Request, email: str) -> HttpResponse:
        user = User.objects.filter(email=normalize_email(email)).first()
        if user is None:
            raise NotFound("The user with this email does not exist in the system.")
        message = recovery.reset_email(user)
        return HttpResponse(
            message.html,
            content_type="text/html; charset=utf-8",
            status=status.HTTP_200_OK,
            headers={"X-Email-Subject": message.subject},
        )
