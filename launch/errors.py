"""Domain errors: what a service, a token check or a selector raises when it refuses.

They know nothing of HTTP. The API's exception handler (`launch.api.exceptions`) maps
each class to its status and the error envelope `{"detail": message}` in one place; a
management command turns them into a `CommandError`, the admin into a form error or a
message. Field-level problems stay Django's `ValidationError` (a 422 with `loc` items
in the API), which is no more HTTP-bound than these.

Every error has a stable `code` (for logs and tests; clients read the status), by
default its class name in snake case, and a `message` for people.
"""

from __future__ import annotations

import datetime
import re


class DomainError(Exception):
    """Base class: a request the domain refuses, with a message fit to show its author."""

    code = "error"
    default_message = "The request could not be completed."

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if "code" not in vars(cls):  # NotFound -> "not_found"
            cls.code = re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        if code is not None:
            self.code = code
        super().__init__(self.message)


class Invalid(DomainError):
    """The request is wrong as a whole (a bad password, an expired link): 400."""

    default_message = "Bad request."


class NotAuthenticated(DomainError):
    """The credentials presented are missing, invalid, expired or revoked: 401."""

    default_message = "Authentication credentials were not provided."


class PermissionDenied(DomainError):
    """Authenticated, but not allowed to do this: 403."""

    default_message = "You do not have permission to perform this action."


class NotFound(DomainError):
    """Absent, or not visible to the caller (the two read alike): 404."""

    default_message = "Not found."


class Conflict(DomainError):
    """The request conflicts with the current state (a duplicate, a fixed row): 409."""

    default_message = "The request conflicts with the current state of the resource."


class Gone(DomainError):
    """It existed but can no longer be used (an expired, used or revoked link): 410."""

    default_message = "This link is no longer valid."


class QuotaExceeded(DomainError):
    """A plan's limit on what a team holds (documents, storage) would be passed: 403.

    It names the limit (`quota`), the team's current use and the limit itself, and when
    it resets (`resets_at`, None for a holding that frees up only when something is
    deleted). `rate` marks a limit a client paces itself by (per minute, per day): the
    API adds the `X-RateLimit-*` headers to the refusal.
    """

    default_message = "Your plan's limit is reached."

    def __init__(
        self,
        message: str | None = None,
        *,
        quota: str,
        limit: int,
        used: int,
        resets_at: datetime.datetime | None = None,
        rate: bool = False,
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.quota = quota
        self.limit = limit
        self.used = used
        self.resets_at = resets_at
        self.rate = rate

    def fields(self) -> dict[str, object]:
        return {
            "quota": self.quota,
            "limit": self.limit,
            "used": self.used,
            "resets_at": self.resets_at.isoformat() if self.resets_at else None,
        }


class RateLimited(QuotaExceeded):
    """A limit per time window (requests per minute, messages per day, tokens per month)
    is spent: 429, with `Retry-After` until `resets_at`."""

    default_message = "Your plan's limit for this period is reached."
