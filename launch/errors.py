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
