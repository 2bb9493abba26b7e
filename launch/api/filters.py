"""Filter backends every viewset inherits."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.filters import BaseFilterBackend, OrderingFilter
from rest_framework.request import Request

from launch.api.exceptions import QueryValidationError
from launch.api.permissions import has_team
from launch.api.teams import request_team
from launch.permissions import objects_visible_to


class ObjectPermissionFilter(BaseFilterBackend):
    """Narrow every queryset (lists, and the row lookup of detail routes) to the current
    team's rows the user may view: all of them when its team role carries the model's
    `view`, else those it or one of its roles holds object `view` on. Runs in SQL,
    before pagination, so `count` is the true total of visible rows."""

    def filter_queryset(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> QuerySet[Any]:
        if not has_team(queryset.model):
            return objects_visible_to(request.user, queryset)
        return objects_visible_to(request.user, queryset, team_id=request_team(request).pk)


class StableOrderingFilter(OrderingFilter):
    """`?ordering=` with the primary key as a final tie-breaker, so skip/limit pages
    neither repeat nor drop rows that share a sort value."""

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        ordering = super().get_ordering(request, queryset, view)
        if not ordering:
            return ordering
        fields = [str(term) for term in ordering]
        if not {"pk", "-pk", "id", "-id"} & set(fields):
            fields.append("pk")
        return fields


class QueryFilterBackend(DjangoFilterBackend):
    """django-filter, with invalid filter values reported as 422 at `["query", name]`."""

    def filter_queryset(
        self, request: Request, queryset: QuerySet[Any], view: Any
    ) -> QuerySet[Any]:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            raise QueryValidationError(filterset.errors)
        return filterset.qs
