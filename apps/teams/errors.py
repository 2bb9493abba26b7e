"""The teams app's own API errors (until the shared domain errors land)."""

from __future__ import annotations

from rest_framework import exceptions, status


class Gone(exceptions.APIException):
    """410: the invitation existed but can no longer be used (expired, used, revoked)."""

    status_code = status.HTTP_410_GONE
    default_detail = "This invitation is no longer valid."
    default_code = "gone"
