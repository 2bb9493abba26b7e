"""Who may call the user-management endpoints (upstream's rules: superusers manage
users; anyone may read their own record)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from launch.api.permissions import acts_as_superuser, is_api_key_request

NOT_ENOUGH_PRIVILEGES = "The user doesn't have enough privileges"


class IsSuperuser(BasePermission):
    """A superuser signed in as a person: an API key never carries superuser status."""

    message = NOT_ENOUGH_PRIVILEGES

    def has_permission(self, request: Request, view: Any) -> bool:
        if is_api_key_request(request):
            self.message = "API keys may not use endpoints reserved to superusers."
            return False
        return acts_as_superuser(request)


class IsSuperuserOrSelf(BasePermission):
    """Decided from the URL alone, before any lookup: a non-superuser asking for
    someone else gets 403 whether or not that user exists, so ids cannot be probed."""

    message = NOT_ENOUGH_PRIVILEGES

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return bool(
            acts_as_superuser(request)
            or str(view.kwargs.get(view.lookup_url_kwarg, "")).lower() == str(user.pk)
        )
