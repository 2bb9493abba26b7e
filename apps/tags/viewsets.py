from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import extend_schema, extend_schema_view

from apps.tags.filters import TagFilter
from apps.tags.models import Tag
from apps.tags.serializers import TagSerializer
from apps.tags.services import tag_create, tag_delete, tag_update
from apps.users.models import User
from apps.users.serializers import MessageSerializer
from launch.api.sharing import ShareableMixin, shares_schema
from launch.api.teams import request_team
from launch.api.viewsets import LaunchModelViewSet


@extend_schema_view(
    list=extend_schema(operation_id="tags-read_tags", summary="List the tags you may view"),
    create=extend_schema(operation_id="tags-create_tag"),
    retrieve=extend_schema(operation_id="tags-read_tag"),
    update=extend_schema(operation_id="tags-update_tag"),
    partial_update=extend_schema(operation_id="tags-patch_tag"),
    destroy=extend_schema(operation_id="tags-delete_tag", responses={200: MessageSerializer}),
    shares=shares_schema("tags", "tag"),
)
class TagViewSet(ShareableMixin, LaunchModelViewSet):
    queryset = Tag.objects.all()
    serializer_class = TagSerializer
    filterset_class = TagFilter
    search_fields = ["name"]
    ordering_fields = ["name", "created_at"]
    ordering = ["name"]

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = tag_create(
            user=cast(User, self.request.user),
            team=request_team(self.request),
            **serializer.validated_data,
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = tag_update(tag=serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance: Any) -> None:
        tag_delete(tag=instance)
