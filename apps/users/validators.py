"""Password rules of Launch's own, next to Django's in AUTH_PASSWORD_VALIDATORS."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


class NotOnlyWhitespaceValidator:
    """Refuses a password of spaces, tabs or newlines only: it passes the length rule, yet
    is the first thing a guesser tries. Whitespace inside a password stays allowed."""

    def validate(self, password: str, user: Any = None) -> None:
        if not password.strip():
            raise ValidationError(
                "This password is only whitespace.", code="password_only_whitespace"
            )

    def get_help_text(self) -> str:
        return "Your password can't be only whitespace."
