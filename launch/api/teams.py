"""The one place the API resolves the current team (`launch.teams`): every viewset and
view that reads or writes team objects calls `request_team(request)`, which caches it
on the request. The header is documented on their operations (`team_header`)."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from launch.errors import NotFound
from launch.teams import TEAM_HEADER, CurrentTeam, current_team

_ATTR = "_launch_current_team"

team_header = OpenApiParameter(
    name=TEAM_HEADER,
    type=OpenApiTypes.UUID,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "The team to work in (one you are a member of). Without it, your default team "
        "(your personal team unless you chose another). A malformed or unknown id, or a "
        "team you are not a member of, is a 404."
    ),
)


def request_team(request: Request) -> CurrentTeam:
    """The request's current team (404 in the envelope for a bad `X-Team-ID`)."""
    found = request.__dict__.get(_ATTR)
    if found is None:
        requested = request.headers.get(TEAM_HEADER)
        # A team API key works in its team only (apps.apikeys: authentication has checked
        # that its creator is still a member who may manage keys); naming another team
        # is the same 404 as naming a team one is not in.
        key_team = getattr(request.auth, "team_id", None)
        if key_team is not None:
            if requested is not None and requested.strip().lower() != str(key_team):
                raise NotFound()
            requested = str(key_team)
        found = current_team(cast(Any, request.user), requested)
        request.__dict__[_ATTR] = found
    return cast(CurrentTeam, found)
