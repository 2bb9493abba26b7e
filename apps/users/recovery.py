"""Password recovery: the emailed link and its single-use, expiring token.

The token is `<user id, base64>.<Django password-reset token>`. Django's generator hashes
the user's password hash, last login and a timestamp, so a token stops working once the
password changes (single use) or after `PASSWORD_RESET_TIMEOUT` seconds. The reset
locks the user's row and checks the token again under the lock, so two requests racing
with one token cannot both succeed.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from apps.users.models import User, normalize_email
from apps.users.services import user_set_password
from launch import errors

logger = logging.getLogger("apps.users")
generator = PasswordResetTokenGenerator()
INVALID_TOKEN = "Invalid token"  # noqa: S105 - an error message


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str

    def send(self) -> None:
        message = EmailMultiAlternatives(self.subject, self.text, to=[self.to])
        message.attach_alternative(self.html, "text/html")
        message.send()


def make_reset_token(user: User) -> str:
    return f"{urlsafe_base64_encode(force_bytes(user.pk))}.{generator.make_token(user)}"


def _user_from_token_locked(token: str) -> User | None:
    uid, _, secret = token.partition(".")
    try:
        pk = uuid.UUID(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError):  # not base64, not text, or not a UUID
        return None
    user = User.objects.select_for_update().filter(pk=pk, is_active=True).first()
    if user is None or not generator.check_token(user, secret):
        return None
    return user


def reset_email(user: User) -> Email:
    """The recovery email for `user`: HTML and text, with a link to the front end."""
    link = f"{settings.FRONTEND_URL}/reset-password?{urlencode({'token': make_reset_token(user)})}"
    context = {
        "project_name": settings.PROJECT_NAME,
        "email": user.email,
        "link": link,
        "valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
    }
    return Email(
        to=user.email,
        subject=f"{settings.PROJECT_NAME} - Password recovery for {user.email}",
        text=render_to_string("users/email/reset_password.txt", context),
        html=render_to_string("users/email/reset_password.html", context),
    )


def password_recovery_request(*, email: str) -> None:
    """Queue the recovery email for `email`, whether or not an account has it.

    The request does the same work either way (one queued message, no database read),
    so neither the answer nor its timing tells whether the account exists; the worker
    looks the account up (`password_recovery_send`). Side effects: enqueues one task."""
    from apps.users.tasks import password_recovery_send

    password_recovery_send.delay(normalize_email(email))


def password_recovery_send(*, email: str) -> bool:
    """Email a reset link if `email` belongs to an active user. Returns whether it sent.

    Side effects: sends at most one email. An SMTP failure is logged, not retried: a
    retry could send twice, and the user can simply ask again."""
    user = User.objects.filter(email=normalize_email(email), is_active=True).first()
    if user is None:
        return False
    try:
        reset_email(user).send()
    except OSError:
        logger.exception("could not send the password recovery email")
        return False
    return True


@transaction.atomic
def password_reset(*, token: str, new_password: str) -> User:
    """Set a new password from a recovery token; 400 "Invalid token" for a bad, expired
    or used one (or an inactive user).

    Side effects: the password change revokes every token of the user."""
    user = _user_from_token_locked(token)
    if user is None:
        raise errors.Invalid(INVALID_TOKEN)
    return user_set_password(user=user, password=new_password)
