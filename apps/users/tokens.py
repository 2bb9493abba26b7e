"""JWT pairs: issue, rotate, revoke.

Rotation is done here rather than by simplejwt's refresh serializer because that one is
not race-free: two requests with the same refresh token can both pass the blacklist
check before either writes. Here the token's OutstandingToken row is locked
(`SELECT ... FOR UPDATE`) for the rotation, so the second request waits, then finds the
token blacklisted and gets a 401.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken, TokenError
from rest_framework_simplejwt.utils import get_md5_hash_password

from apps.users.models import User

INVALID_REFRESH = "Refresh token is invalid, expired or revoked"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    refresh_expires_in: int
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type

    def as_dict(self) -> dict[str, str | int]:
        return {
            "access_token": self.access_token,
            "token_type": self.token_type,
            "refresh_token": self.refresh_token,
            "expires_in": self.expires_in,
        }


def token_pair_issue(*, user: User) -> TokenPair:
    """A fresh access + refresh pair. Side effects: records the refresh token as
    outstanding, so it can be revoked later."""
    refresh = RefreshToken.for_user(user)
    return TokenPair(
        access_token=str(refresh.access_token),
        refresh_token=str(refresh),
        expires_in=int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
        refresh_expires_in=int(api_settings.REFRESH_TOKEN_LIFETIME.total_seconds()),
    )


def _decode(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)  # type: ignore[arg-type]
    except TokenError as exc:
        raise AuthenticationFailed(INVALID_REFRESH, code="token_not_valid") from exc


@transaction.atomic
def token_refresh(*, raw: str) -> TokenPair:
    """Exchange a refresh token for a new pair; the old one is blacklisted (401 if it
    already was, or if its user is gone, inactive or has a new password).

    Side effects: blacklists the presented token, records the new one."""
    token = _decode(raw)
    outstanding = (
        # order_by(): the model's default ordering joins the user table, which
        # FOR UPDATE cannot lock through.
        OutstandingToken.objects.select_for_update()
        .filter(jti=token[api_settings.JTI_CLAIM])
        .order_by()
        .first()
    )
    if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
        raise AuthenticationFailed(INVALID_REFRESH, code="token_not_valid")
    user = User.objects.filter(pk=token.get(api_settings.USER_ID_CLAIM)).first()
    if (
        user is None
        or not user.is_active
        or token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password)
    ):
        raise AuthenticationFailed(INVALID_REFRESH, code="token_not_valid")
    BlacklistedToken.objects.create(token=outstanding)
    return token_pair_issue(user=user)


@transaction.atomic
def token_revoke(*, raw: str) -> bool:
    """Blacklist one refresh token (logout). Returns False for a token that is not
    valid anyway: logging out twice is not an error.

    Side effects: inserts a BlacklistedToken row."""
    try:
        token = RefreshToken(raw)  # type: ignore[arg-type]
    except TokenError:
        return False
    token.blacklist()
    return True
