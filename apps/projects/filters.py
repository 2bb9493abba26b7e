from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

from apps.projects.selectors import project_list
from launch.api.teams import request_team


class DocumentPermissionFilter(BaseFilterBackend):
    """Documents of the current team's projects the user may view; anything else is a
    404."""

    def filter_queryset(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> QuerySet[Any]:
        return queryset.filter(
            project__in=project_list(user=request.user, team_id=request_team(request).pk).values(
                "pk"
            )
        )
