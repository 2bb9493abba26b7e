"""Changing one's own email address without revealing who else is registered.

`PATCH /users/me` with a new `email` needs the current password, and changes nothing
yet: it queues one message, whatever the address. The worker then emails the address:
a confirmation link if it is free, a notice to its owner if it is taken. The answer and
the request's work are therefore the same for a taken and a free address, and only the
owner of the new mailbox learns which it was. `POST /users/confirm-email` with the
link's token makes the change (409 if the address was taken in the meantime).

The token is signed (`django.core.signing`), expires after `EMAIL_CHANGE_TIMEOUT`
seconds, and names a fingerprint of the account's current email and password hash: it
works once (the email changes), and a password change voids it.
"""

from __future__ import annotations

import logging
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.crypto import constant_time_compare, salted_hmac

from apps.users.models import User, normalize_email
from apps.users.recovery import INVALID_TOKEN, Email
from apps.users.services import user_update
from launch import errors

logger = logging.getLogger("apps.users")
SALT = "launch.users.email-change"


def _fingerprint(user: User) -> str:
    return salted_hmac(SALT, f"{user.pk}\n{user.email}\n{user.password}").hexdigest()[:32]


def make_token(user: User, new_email: str) -> str:
    return signing.dumps({"u": str(user.pk), "e": new_email, "f": _fingerprint(user)}, salt=SALT)


def confirm_email(user: User, new_email: str) -> Email:
    """The confirmation sent to the new address, with its link to the front end."""
    query = urlencode({"token": make_token(user, new_email)})
    link = f"{settings.FRONTEND_URL}/confirm-email?{query}"
    context = {
        "project_name": settings.PROJECT_NAME,
        "email": new_email,
        "current_email": user.email,
        "link": link,
        "valid_hours": max(1, settings.EMAIL_CHANGE_TIMEOUT // 3600),
    }
    return Email(
        to=new_email,
        subject=f"{settings.PROJECT_NAME} - Confirm your new email address",
        text=render_to_string("users/email/confirm_email.txt", context),
        html=render_to_string("users/email/confirm_email.html", context),
    )


def in_use_email(address: str) -> Email:
    """The notice to the owner of an address another account asked for."""
    context = {"project_name": settings.PROJECT_NAME, "email": address}
    return Email(
        to=address,
        subject=f"{settings.PROJECT_NAME} - Someone tried to use your email address",
        text=render_to_string("users/email/email_in_use.txt", context),
        html=render_to_string("users/email/email_in_use.html", context),
    )


def email_change_request(*, user: User, new_email: str) -> None:
    """Queue the email that starts changing `user`'s address to `new_email`.

    No database read about `new_email` happens here (the worker decides what to send),
    so the request looks the same whoever holds the address. Side effects: enqueues one
    task after commit."""
    from apps.users.tasks import email_change_send

    user_id, address = str(user.pk), normalize_email(new_email)
    transaction.on_commit(lambda: email_change_send.delay(user_id, address))


def email_change_send(*, user_id: uuid.UUID | str, new_email: str) -> str | None:
    """Email `new_email` a confirmation link for `user_id`, or, if the address belongs to
    another account, a notice to its owner. Returns `"confirm"`, `"in_use"` or None (the
    user is gone or inactive, or the address is already its own).

    Side effects: sends at most one email. An SMTP failure is logged, not retried: a
    retry could send twice, and the user can simply ask again."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    address = normalize_email(new_email)
    if user is None or address == user.email:
        return None
    taken = User.objects.filter(email=address).exists()
    message = in_use_email(address) if taken else confirm_email(user, address)
    try:
        message.send()
    except OSError:
        logger.exception("could not send the email change message")
        return None
    return "in_use" if taken else "confirm"


@transaction.atomic
def email_change_confirm(*, token: str) -> User:
    """Apply the change a confirmation token names; 400 "Invalid token" for a bad,
    expired or used token (or an inactive user), 409 if the address was taken since.

    Side effects: the user's email changes (recorded in the activity log)."""
    try:
        payload = signing.loads(token, salt=SALT, max_age=settings.EMAIL_CHANGE_TIMEOUT)
        user_id, new_email, fingerprint = payload["u"], payload["e"], payload["f"]
        active = User.objects.select_for_update().filter(is_active=True)
        user = active.filter(pk=uuid.UUID(user_id)).first()
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise errors.Invalid(INVALID_TOKEN) from None
    if user is None or not constant_time_compare(fingerprint, _fingerprint(user)):
        raise errors.Invalid(INVALID_TOKEN)
    return user_update(user=user, email=new_email)
