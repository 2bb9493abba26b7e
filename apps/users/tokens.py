"""JWT pairs: issue, rotate, renew, revoke.

Rotation is done here rather than by simplejwt's refresh serializer because that one is
not race-free: two requests with the same refresh token can both pass the blacklist
check before either writes. Here the token's OutstandingToken row is locked
(`SELECT ... FOR UPDATE`) for the rotation, so the second request waits, then finds the
token blacklisted and gets a 401.

A rotated token's successor gets a jti derived from the old one (`successor_jti`), so
"rotated" (a successor exists) is told apart from "revoked" (logout, password change,
deactivation: none does) without another table. Cookie renewal (`token_renew`) needs
that: a browser sends the same refresh cookie on every request it has in flight, and
the ones that lose the race must not log the user out.

Every token carries the user's `token_version` (claim `ver`, copied from the refresh
token into its access tokens). Revoking a user's tokens bumps the version
(`services.user_revoke_tokens`), and a token of another version is refused, by
authentication, refresh and renewal: reactivating a user does not revive what it held.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken, Token, TokenError
from rest_framework_simplejwt.utils import get_md5_hash_password

from apps.users.models import User
from launch.api.authentication import TOKEN_VERSION_CLAIM
from launch.errors import NotAuthenticated

INVALID_REFRESH = "Refresh token is invalid, expired or revoked"


class _VersionedToken(Token):
    @classmethod
    def for_user(cls, user: Any) -> Any:
        token = super().for_user(user)
        token[TOKEN_VERSION_CLAIM] = user.token_version
        return token


class VersionedRefreshToken(RefreshToken, _VersionedToken):  # type: ignore[misc]
    """A refresh token (and through it, its access tokens) carrying `ver`. The claim is
    set before simplejwt records the token as outstanding (the MRO puts it between
    the blacklist mixin and the base token), so the recorded text is the issued one."""


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


_SUCCESSOR_NAMESPACE = uuid.UUID("6f1d4c1e-3b0a-4f7e-9a57-2f0c8d6b9e41")


def successor_jti(jti: str) -> str:
    """The jti of the token that replaces `jti` on rotation (deterministic, see above)."""
    return uuid.uuid5(_SUCCESSOR_NAMESPACE, jti).hex


def token_pair_issue(*, user: User, replaces: str | None = None) -> TokenPair:
    """A fresh access + refresh pair; `replaces` is the jti of the refresh token it
    rotates, if any. Side effects: records the refresh token as outstanding, so it can be
    revoked later."""
    refresh = VersionedRefreshToken.for_user(user)
    if replaces is not None:
        # for_user recorded a random jti; the successor's must be derivable from the old.
        random_jti = refresh[api_settings.JTI_CLAIM]
        refresh[api_settings.JTI_CLAIM] = successor_jti(replaces)
        OutstandingToken.objects.filter(jti=random_jti).update(
            jti=refresh[api_settings.JTI_CLAIM], token=str(refresh)
        )
    return TokenPair(
        access_token=str(refresh.access_token),
        refresh_token=str(refresh),
        expires_in=int(api_settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
        refresh_expires_in=int(api_settings.REFRESH_TOKEN_LIFETIME.total_seconds()),
    )


class _PresentedRefreshToken(RefreshToken):
    """Signature, expiry and type checked on decoding; the blacklist is read by the
    callers under the token's row lock (where a just-rotated token can be told apart)."""

    def check_blacklist(self) -> None:
        return None


def _decode(raw: str) -> RefreshToken:
    try:
        return _PresentedRefreshToken(raw)  # type: ignore[arg-type]
    except TokenError as exc:
        raise NotAuthenticated(INVALID_REFRESH, code="token_not_valid") from exc


def _locked_outstanding(token: RefreshToken) -> OutstandingToken | None:
    return (
        # order_by(): the model's default ordering joins the user table, which
        # FOR UPDATE cannot lock through.
        OutstandingToken.objects.select_for_update()
        .filter(jti=token[api_settings.JTI_CLAIM])
        .order_by()
        .first()
    )


def _holder(token: RefreshToken) -> User:
    """The token's user, if it may still use it (active, same password, same token
    version); else 401."""
    user = User.objects.filter(pk=token.get(api_settings.USER_ID_CLAIM)).first()
    if (
        user is None
        or not user.is_active
        or token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password)
        or token.get(TOKEN_VERSION_CLAIM, 0) != user.token_version
    ):
        raise NotAuthenticated(INVALID_REFRESH, code="token_not_valid")
    return user


def _is_blacklisted(outstanding: OutstandingToken) -> bool:
    return BlacklistedToken.objects.filter(token=outstanding).exists()


@transaction.atomic
def token_refresh(*, raw: str) -> TokenPair:
    """Exchange a refresh token for a new pair; the old one is blacklisted (401 if it
    already was, or if its user is gone, inactive or has a new password).

    Side effects: blacklists the presented token, records the new one."""
    token = _decode(raw)
    outstanding = _locked_outstanding(token)
    if outstanding is None or _is_blacklisted(outstanding):
        raise NotAuthenticated(INVALID_REFRESH, code="token_not_valid")
    user = _holder(token)
    BlacklistedToken.objects.create(token=outstanding)
    return token_pair_issue(user=user, replaces=outstanding.jti)


@dataclass(frozen=True)
class Renewal:
    """A cookie session renewed: `pair` is new, or None when a concurrent request already
    rotated the same refresh token (that response carries the new cookies)."""

    user: User
    pair: TokenPair | None


def _rotated_moments_ago(outstanding: OutstandingToken) -> bool:
    """True if `outstanding` was replaced by rotation (not revoked) within the grace
    period, and the chain it started still ends in a live token."""
    blacklisted = BlacklistedToken.objects.filter(token=outstanding).first()
    grace = timedelta(seconds=settings.REFRESH_TOKEN_REUSE_SECONDS)
    if blacklisted is None or blacklisted.blacklisted_at < timezone.now() - grace:
        return False
    jti = outstanding.jti
    for _ in range(3):  # a few renewals in a burst at most; anything longer is refused
        successor = OutstandingToken.objects.filter(jti=successor_jti(jti)).order_by().first()
        if successor is None:
            return False
        if not _is_blacklisted(successor):
            return True
        jti = successor.jti
    return False


@transaction.atomic
def token_renew(*, raw: str) -> Renewal:
    """Renew a cookie session from its refresh token: `token_refresh`, except that a
    token rotated by a concurrent request within `REFRESH_TOKEN_REUSE_SECONDS` still
    identifies its user (with no new pair), so parallel requests of one browser are not
    logged out. A revoked token (logout, password change, deactivation, deletion) gets
    no grace: 401.

    Side effects: as `token_refresh` when it rotates; none otherwise."""
    token = _decode(raw)
    outstanding = _locked_outstanding(token)
    if outstanding is None:
        raise NotAuthenticated(INVALID_REFRESH, code="token_not_valid")
    if _is_blacklisted(outstanding):
        if not _rotated_moments_ago(outstanding):
            raise NotAuthenticated(INVALID_REFRESH, code="token_not_valid")
        return Renewal(user=_holder(token), pair=None)
    user = _holder(token)
    BlacklistedToken.objects.create(token=outstanding)
    return Renewal(user=user, pair=token_pair_issue(user=user, replaces=outstanding.jti))


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
