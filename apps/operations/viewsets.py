from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from apps.operations.filters import ActivityFilter
from apps.operations.selectors import activity_list
from apps.operations.serializers import ActivitySerializer
from apps.users.permissions import IsSuperuser
from launch.api.filters import QueryFilterBackend


@extend_schema_view(
    list=extend_schema(
        operation_id="activity-list",
        tags=["activity"],
        summary="The activity log: every create, update and delete, and every change of "
        "rights with before and after (superusers)",
    )
)
class ActivityViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    # Superusers only: entries name every user and object, whatever the object grants.
    queryset = activity_list()
    serializer_class = ActivitySerializer
    permission_classes = [IsSuperuser]
    filter_backends = [QueryFilterBackend]
    filterset_class = ActivityFilter
