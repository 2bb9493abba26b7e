"""Every write to a user goes through here: the API, the admin and the commands.

The invariant these functions keep: whenever a user loses access (deactivated, deleted,
password changed or reset), every refresh token it holds is blacklisted in the same
transaction, so none of them can be used again. Access tokens die with them: the same
revocation bumps the user's `token_version`, which every token carries, so no token
issued before works again, even once the user is reactivated; an inactive or deleted
user also fails the per-request user load.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.users.models import User, normalize_email
from launch import errors
from launch.rights_cache import user_rights_changed

DUPLICATE_EMAIL = "The user with this email already exists in the system."
EMAIL_TAKEN = "User with this email already exists"


def _check_password(password: str, user: User, field: str) -> None:
    """Django's password validators, reported against `field` (422 in the API)."""
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise DjangoValidationError({field: exc.messages}) from exc


def _save_unique(user: User) -> None:
    """Save, turning a lost race on the email constraints into a 409, never a 500."""
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        raise errors.Conflict(DUPLICATE_EMAIL) from exc


def user_revoke_tokens(*, user: User) -> int:
    """End every token of `user`: blacklist its refresh tokens not yet blacklisted and
    bump its `token_version`, which refuses every access token issued so far. Returns
    how many refresh tokens were blacklisted.

    Side effects: inserts BlacklistedToken rows (one statement); updates the user's
    `token_version` (also on the `user` object, so a later save keeps it)."""
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    user_rights_changed([user.pk])  # `update` sends no signal: the cached row is stale
    user.refresh_from_db(fields=["token_version"])
    pending = OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True)
    rows = [BlacklistedToken(token_id=pk) for pk in pending.values_list("pk", flat=True)]
    BlacklistedToken.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


@transaction.atomic
def user_create(
    *,
    email: str,
    password: str | None,
    full_name: str = "",
    is_active: bool = True,
    is_superuser: bool = False,
    is_staff: bool | None = None,
    validate: bool = True,
    actor: User | None = None,
) -> User:
    """Create a user; 409 if the email is taken (case-insensitively).

    A superuser is also staff unless told otherwise, so it can open the admin. Only a
    superuser `actor` (or the system, None) creates staff or superusers (else 403).
    Side effects: gives the user the default role (`DEFAULT_ROLE`) and its personal
    team (apps.teams)."""
    from apps.rbac.rights import require_superuser
    from apps.rbac.services import role_assign_default
    from apps.teams.services import team_ensure_personal

    user = User(
        email=normalize_email(email),
        full_name=full_name or "",
        is_active=is_active,
        is_superuser=is_superuser,
        is_staff=is_superuser if is_staff is None else is_staff,
    )
    if user.is_superuser or user.is_staff:
        require_superuser(actor, "make users staff or superusers")
    if User.objects.filter(email=user.email).exists():
        raise errors.Conflict(DUPLICATE_EMAIL)
    if password is None:
        user.set_unusable_password()
    else:
        if validate:
            _check_password(password, user, "password")
        user.set_password(password)
    _save_unique(user)
    role_assign_default(user=user)
    team_ensure_personal(user=user)
    return user


def user_register(*, email: str, password: str, full_name: str = "") -> User:
    """Self-service signup; 403 when `USERS_OPEN_REGISTRATION` is off."""
    if not settings.USERS_OPEN_REGISTRATION:
        raise errors.PermissionDenied("Open user registration is forbidden on this server")
    return user_create(email=email, password=password, full_name=full_name)


@transaction.atomic
def user_update(
    *,
    user: User,
    email: str | None = None,
    full_name: str | None = None,
    is_active: bool | None = None,
    is_superuser: bool | None = None,
    is_staff: bool | None = None,
    password: str | None = None,
    roles: Iterable[Group] | None = None,
    actor: User | None = None,
) -> User:
    """Change the given fields (None leaves a field alone); 409 on a taken email.

    The flags and `roles` are rights: they go through `apps.rbac.services` with `actor`
    (only superusers change the flags; roles follow the no-escalation rule).
    Side effects: revokes the user's tokens when it is deactivated or its password set;
    `roles` replaces the user's roles."""
    from apps.rbac.services import user_set_flags, user_set_roles

    revoke = False
    if email is not None:
        email = normalize_email(email)
        if email != user.email:
            if User.objects.filter(email=email).exclude(pk=user.pk).exists():
                raise errors.Conflict(EMAIL_TAKEN)
            user.email = email
    if full_name is not None:
        user.full_name = full_name
    user_set_flags(actor=actor, user=user, is_superuser=is_superuser, is_staff=is_staff)
    if is_active is not None:
        revoke = user.is_active and not is_active
        user.is_active = is_active
    if password is not None:
        _check_password(password, user, "password")
        user.set_password(password)
        revoke = True
    _save_unique(user)
    if roles is not None:
        user_set_roles(actor=actor, user=user, roles=roles)
    if revoke:
        user_revoke_tokens(user=user)
    return user


@transaction.atomic
def user_update_me(
    *,
    user: User,
    email: str | None = None,
    full_name: str | None = None,
    current_password: str | None = None,
) -> User:
    """A user's edit of its own record. A new `email` needs `current_password` (400
    "Incorrect password" otherwise) and is not applied here: a confirmation goes to the
    new address, or a notice to its owner if it is taken (apps/users/email_change.py),
    so the answer never tells whether an address is registered. Nothing changes on a
    wrong password.

    Side effects: updates `full_name`; queues the email-change message after commit."""
    from apps.users.email_change import email_change_request

    new_email = normalize_email(email) if email is not None else None
    changing = new_email is not None and new_email != user.email
    if changing and not user.check_password(current_password or ""):
        raise errors.Invalid("Incorrect password")
    user = user_update(user=user, full_name=full_name)
    if changing:
        assert new_email is not None
        email_change_request(user=user, new_email=new_email)
    return user


@transaction.atomic
def user_save_admin_changes(*, user: User, changed_fields: list[str]) -> User:
    """Persist a user edited in the admin's change form (the form has validated it).

    Side effects: revokes the user's tokens when the edit deactivated it."""
    _save_unique(user)
    if "is_active" in changed_fields and not user.is_active:
        user_revoke_tokens(user=user)
    return user


@transaction.atomic
def user_set_active(*, user: User, is_active: bool) -> User:
    """Activate or deactivate. Side effects: deactivation revokes every token of the user."""
    return user_update(user=user, is_active=is_active)


@transaction.atomic
def user_set_password(*, user: User, password: str | None, validate: bool = True) -> User:
    """Set a new password (None: an unusable one, password login disabled).

    Side effects: revokes every refresh token; the new hash also invalidates every
    access token (their `hash_password` claim no longer matches)."""
    if password is None:
        user.set_unusable_password()
    else:
        if validate:
            _check_password(password, user, "new_password")
        user.set_password(password)
    user.save(update_fields=["password"])
    user_revoke_tokens(user=user)
    return user


def user_change_password(*, user: User, current_password: str, new_password: str) -> User:
    """The user's own password change: 400 on a wrong or unchanged password."""
    if not user.check_password(current_password):
        raise errors.Invalid("Incorrect password")
    if current_password == new_password:
        raise errors.Invalid("New password cannot be the same as the current one")
    return user_set_password(user=user, password=new_password)


@transaction.atomic
def user_delete(*, user: User) -> None:
    """Delete the user. Side effects: its refresh tokens are blacklisted first (the
    outstanding rows outlive the user with a null owner, and stay refused); its teams
    are handed on or deleted (`apps.teams.services.team_release_user`)."""
    from apps.teams.services import team_release_user

    user_revoke_tokens(user=user)
    team_release_user(user=user)
    user.delete()


def user_delete_self(*, user: User) -> None:
    """A user closing its own account; superusers may not (someone must stay in charge)."""
    if user.is_superuser:
        raise errors.PermissionDenied("Super users are not allowed to delete themselves")
    user_delete(user=user)


def user_authenticate(*, email: str, password: str) -> User:
    """Check credentials for the login endpoint; 400 with upstream's messages.

    An unknown email still runs the password hasher once, so the answer takes as long as
    for a known one. "Inactive user" is told only to someone who knows the password."""
    user = User.objects.filter(email=normalize_email(email)).first()
    if user is None:
        User().set_password(password)
        raise errors.Invalid("Incorrect email or password")
    if not user.check_password(password):
        raise errors.Invalid("Incorrect email or password")
    if not user.is_active:
        raise errors.Invalid("Inactive user")
    return user


@dataclass(frozen=True)
class FirstSuperuser:
    user: User
    created: bool
    generated_password: str | None


@transaction.atomic
def user_ensure_first_superuser() -> FirstSuperuser:
    """Create `FIRST_SUPERUSER` unless it exists (idempotent; an existing account is
    never changed). The password is `FIRST_SUPERUSER_PASSWORD`; when that is unset and
    `LOCAL_GENERATE_SUPERUSER_PASSWORD` is on (local and test settings), a random one is
    generated and returned, for the caller to show once."""
    email = normalize_email(settings.FIRST_SUPERUSER or "")
    if not email:
        raise ImproperlyConfigured("The environment variable FIRST_SUPERUSER is required.")
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        return FirstSuperuser(user=existing, created=False, generated_password=None)
    password = settings.FIRST_SUPERUSER_PASSWORD
    generated = None
    if not password:
        if not settings.LOCAL_GENERATE_SUPERUSER_PASSWORD:
            raise ImproperlyConfigured(
                "The environment variable FIRST_SUPERUSER_PASSWORD is required to create "
                f"the first superuser ({email})."
            )
        password = generated = secrets.token_urlsafe(18)
    try:
        user = user_create(email=email, password=password, is_superuser=True)
    except DjangoValidationError as exc:
        raise ImproperlyConfigured(
            "FIRST_SUPERUSER_PASSWORD is too weak: " + " ".join(exc.messages)
        ) from exc
    return FirstSuperuser(user=user, created=True, generated_password=generated)
