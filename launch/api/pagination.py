"""`?skip=&limit=` pagination answering `{"data": [...], "count": N}` as upstream does.

`count` is the total number of rows matching the filters, not the page length. `limit`
is capped by `API_MAX_PAGE_SIZE` (default 1000); a larger or negative value is a 422,
not a silent clamp, so a client learns the bound.

A list narrowed to the rows a user may see costs its page, not the visible set
(`launch.permissions.visible_page`): its `count` is exact up to `skip + limit +
API_COUNT_EXACT_BEYOND_PAGE` (default 1000) and that number beyond (a lower bound, so
a client that pages until `skip + limit >= count` still reaches every row).
A team's whole list (a superuser's, or a team role's carrying `view`: docs/teams.md)
is bounded the same way; lists of rows without object grants (users, roles) count
exactly. The count is read in the page's own statement (a scalar subquery), so a list
is one query; only a page past the last row needs a count query of its own.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

from launch.api.exceptions import QueryValidationError
from launch.permissions import VISIBLE_COUNT, visible_count, visible_page

DEFAULT_LIMIT = 100


def max_limit() -> int:
    return int(settings.API_MAX_PAGE_SIZE)


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryValidationError(
            {name: [f"Must be an integer between {low} and {high}."]}
        ) from None
    if not low <= value <= high:
        raise QueryValidationError({name: [f"Must be an integer between {low} and {high}."]})
    return value


def skip_limit(request: Request) -> tuple[int, int]:
    skip = _int_param(request, "skip", 0, 0, 2**31 - 1)
    limit = _int_param(request, "limit", DEFAULT_LIMIT, 1, max_limit())
    return skip, limit


def _take_count(page: list[Any]) -> int:
    """The count every row of the page carries, removed from the rows."""
    count = 0
    for row in page:
        count = (row if isinstance(row, dict) else row.__dict__).pop(VISIBLE_COUNT)
    return int(count)


class SkipLimitPagination(BasePagination):
    def paginate_queryset(
        self, queryset: QuerySet[Any] | list[Any], request: Request, view: Any = None
    ) -> list[Any]:
        skip, limit = skip_limit(request)
        if not isinstance(queryset, QuerySet):
            self.count = len(queryset)
            return list(queryset[skip : skip + limit])
        up_to = skip + limit + settings.API_COUNT_EXACT_BEYOND_PAGE
        # The count comes with the page, in its statement; only a page past the end
        # (no row to carry it) needs a query of its own.
        page = list(visible_page(queryset, skip, limit, count_up_to=up_to))
        if page:
            self.count = _take_count(page)
        elif not skip:
            self.count = 0
        else:
            self.count = visible_count(queryset, up_to=up_to)
        return page

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"data": data, "count": self.count})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["data", "count"],
            "properties": {
                "data": schema,
                "count": {"type": "integer", "minimum": 0},
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "skip",
                "required": False,
                "in": "query",
                "schema": {"type": "integer", "minimum": 0, "default": 0},
            },
            {
                "name": "limit",
                "required": False,
                "in": "query",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": max_limit(),
                    "default": DEFAULT_LIMIT,
                },
            },
        ]
