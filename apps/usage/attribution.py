"""Who a request's model calls are for: the helper views wrap their work in."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from rest_framework.request import Request

from launch.ai.metering import attributed
from launch.api.teams import request_team


def request_usage(request: Request, **ids: Any) -> AbstractContextManager[None]:
    """Attribute the model calls made inside the block to the request's user and current
    team and, for an API-key request, to the key; `ids` add `project_id`,
    `conversation_id`, ..."""
    auth = getattr(request, "auth", None)
    api_key = auth if getattr(auth, "limits_scopes", False) else None
    if request.user.is_authenticated and "team_id" not in ids:
        ids["team_id"] = request_team(request).pk
    return attributed(user=request.user, api_key=api_key, **ids)
