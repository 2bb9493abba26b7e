"""Who a request's model calls are for: the helper views wrap their work in."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from rest_framework.request import Request

from launch.ai.metering import attributed


def request_usage(request: Request, **ids: Any) -> AbstractContextManager[None]:
    """Attribute the model calls made inside the block to the request's user and, for an
    API-key request, to the key; `ids` add `project_id`, `conversation_id`, ..."""
    auth = getattr(request, "auth", None)
    api_key = auth if getattr(auth, "limits_scopes", False) else None
    return attributed(user=request.user, api_key=api_key, **ids)
