from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response

from apps.items.filters import ItemFilter
from apps.items.models import Item
from apps.items.selectors import with_brief_tags
from apps.items.serializers import ItemSerializer
from apps.items.services import item_create, item_delete, item_update
from apps.users.models import User
from apps.users.serializers import MessageSerializer
from launch.api.sharing import ShareableMixin, shares_schema
from launch.api.teams import request_team
from launch.api.viewsets import LaunchModelViewSet


@extend_schema_view(
    list=extend_schema(operation_id="items-read_items", summary="List the items you may view"),
    create=extend_schema(operation_id="items-create_item"),
    retrieve=extend_schema(operation_id="items-read_item"),
    update=extend_schema(
        operation_id="items-update_item",
        summary="Update an item (every field optional, as upstream)",
        request=ItemSerializer(partial=True),
    ),
    partial_update=extend_schema(operation_id="items-patch_item"),
    destroy=extend_schema(operation_id="items-delete_item", responses={200: MessageSerializer}),
    shares=shares_schema("items", "item"),
)
class ItemViewSet(ShareableMixin, LaunchModelViewSet):
    queryset = Item.objects.all()
    serializer_class = ItemSerializer
    filterset_class = ItemFilter
    search_fields = ["title"]
    ordering_fields = ["title", "created_at", "updated_at"]
    ordering = ["-created_at"]

    def get_queryset(self) -> QuerySet[Item]:
        queryset = super().get_queryset()
        if self.action in ("list", "retrieve"):
            queryset = with_brief_tags(queryset)
        return queryset

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Upstream's PUT takes ItemUpdate, whose fields are all optional.
        kwargs["partial"] = True
        return super().update(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> None:
        serializer.instance = item_create(
            user=cast(User, self.request.user),
            team=request_team(self.request),
            **serializer.validated_data,
        )

    def perform_update(self, serializer: Any) -> None:
        serializer.instance = item_update(
            item=serializer.instance,
            user=cast(User, self.request.user),
            **serializer.validated_data,
        )

    def perform_destroy(self, instance: Any) -> None:
        item_delete(item=instance)
