"""`/usage/me` (your own model calls) and `/usage` (everyone's, or a team's).

`/usage/me` answers any signed-in person or API key with its user's calls. `/usage`
answers superusers (everyone, or `?team=`) and a team's owners and admins (`?team=`,
required); API keys are refused there (403): a key reads only its own user's usage.
Both take `?format=csv` (or `Accept: text/csv`) for a CSV of the rows.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import Http404, QueryDict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.usage.renderers import UsageCSVRenderer
from apps.usage.selectors import GROUPS, team_admin_of, usage_report, usage_totals
from apps.usage.serializers import UsageQuerySerializer, UsageReportSerializer
from launch.api.exceptions import QueryValidationError
from launch.api.permissions import acts_as_superuser, is_api_key_request
from launch.api.renderers import ORJSONRenderer

COST_QUANTUM = Decimal("0.00000001")
ME_GROUPS = ("day", "model", "purpose")
TEAM_GROUPS = ("day", "model", "user", "project")


def _parameters(groups: tuple[str, ...], *, team: bool) -> list[OpenApiParameter]:
    params = [
        OpenApiParameter(
            "from", OpenApiTypes.DATE, description="First UTC day (default: 29 days before `to`)."
        ),
        OpenApiParameter(
            "to", OpenApiTypes.DATE, description="Last UTC day, included (default: today)."
        ),
        OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(groups), default="day"),
        OpenApiParameter(
            "format", OpenApiTypes.STR, enum=["json", "csv"], description="`csv` for a CSV export."
        ),
    ]
    if team:
        params.append(
            OpenApiParameter(
                "team",
                OpenApiTypes.UUID,
                description="One team's calls; required unless you are a superuser.",
            )
        )
    return params


RESPONSES: dict[Any, Any] = {
    (200, "application/json"): UsageReportSerializer,
    (200, "text/csv"): OpenApiTypes.STR,
    422: OpenApiResponse(description="A bad date, group or range (USAGE_MAX_RANGE_DAYS)."),
}


def money(value: Decimal) -> str:
    """A cost as the schema's decimal string, to the ledger's precision (1e-8)."""
    return format(value.quantize(COST_QUANTUM), "f")


class _UsageView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [ORJSONRenderer, UsageCSVRenderer]
    groups: tuple[str, ...] = GROUPS

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        try:
            return super().perform_content_negotiation(request, force)
        except Http404:
            # DRF answers an unknown `?format=` with a 404; it is a bad query parameter.
            raise QueryValidationError({"format": ["Choose json or csv."]}) from None

    def query(self, request: Request) -> dict[str, Any]:
        params: QueryDict = request.query_params
        serializer = UsageQuerySerializer(data=params, groups=self.groups)
        if not serializer.is_valid():
            raise QueryValidationError(serializer.errors)
        return dict(serializer.validated_data)

    def report(self, query: dict[str, Any], **scope: Any) -> Response:
        rows = usage_report(
            start=query["from"], end=query["to"], group_by=query["group_by"], **scope
        )
        totals = usage_totals(rows)
        for item in (*rows, totals):
            item["cost"] = money(item["cost"])
        body = {
            "data": rows,
            "count": len(rows),
            "totals": totals,
            "group_by": query["group_by"],
            "from": query["from"],
            "to": query["to"],
            "team": scope.get("team_id"),
        }
        response = Response(body)
        if isinstance(getattr(self.request, "accepted_renderer", None), UsageCSVRenderer):
            name = f"usage-{query['group_by']}-{query['from']}-{query['to']}.csv"
            response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        # Errors stay in the JSON envelope even when CSV was asked for.
        if response.status_code >= 400 and isinstance(
            getattr(request, "accepted_renderer", None), UsageCSVRenderer
        ):
            request.accepted_renderer = ORJSONRenderer()
            request.accepted_media_type = ORJSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


class MyUsageView(_UsageView):
    groups = ME_GROUPS

    @extend_schema(
        operation_id="usage-read_my_usage",
        tags=["usage"],
        summary="Your own model calls, summed per day, model or purpose",
        parameters=_parameters(ME_GROUPS, team=False),
        responses=RESPONSES,
    )
    def get(self, request: Request) -> Response:
        return self.report(self.query(request), user_id=request.user.pk)


class UsageView(_UsageView):
    groups = TEAM_GROUPS

    @extend_schema(
        operation_id="usage-read_usage",
        tags=["usage"],
        summary="Everyone's (superusers) or a team's (its owners and admins) model calls",
        parameters=_parameters(TEAM_GROUPS, team=True),
        responses={
            **RESPONSES,
            403: OpenApiResponse(description="Not a superuser nor an admin of `team`; API keys."),
        },
    )
    def get(self, request: Request) -> Response:
        if is_api_key_request(request):
            raise PermissionDenied("API keys read only their own usage (/usage/me).")
        query = self.query(request)
        team_id = query.get("team")
        if not acts_as_superuser(request):
            if team_id is None:
                raise PermissionDenied("Only superusers see all usage; team admins pass ?team=.")
            if not team_admin_of(user=request.user, team_id=team_id):
                raise PermissionDenied("Only the team's owners and admins see its usage.")
        return self.report(query, team_id=team_id)
