from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.items.models import Item
from apps.items.selectors import item_tags
from apps.tags.serializers import TagBriefSerializer


class ItemListSerializer(serializers.ListSerializer[Item]):
    """A page of items with all their tags read in one query."""

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        items = list(data)
        child: Any = self.child
        if all(hasattr(item, "brief_tags") for item in items):
            return [child.represent(item, item.brief_tags) for item in items]
        tags = item_tags(item.pk for item in items)
        return [child.represent(item, tags.get(item.pk, [])) for item in items]


class ItemSerializer(serializers.ModelSerializer[Item]):
    owner_id = serializers.UUIDField(read_only=True)
    tags = TagBriefSerializer(many=True, read_only=True)
    tag_ids = serializers.ListField(
        child=serializers.UUIDField(),
        write_only=True,
        required=False,
        max_length=100,
        help_text="Replaces the item's tags; each must be a tag you may view.",
    )

    class Meta:
        model = Item
        fields = [
            "id",
            "title",
            "description",
            "owner_id",
            "tags",
            "tag_ids",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"title": {"min_length": 1}}
        list_serializer_class = ItemListSerializer

    def to_representation(self, instance: Item) -> dict[str, Any]:
        tags = getattr(instance, "brief_tags", None)
        if tags is None:  # a row written by a service: not read through `with_brief_tags`
            tags = item_tags([instance.pk]).get(instance.pk, [])
        return self.represent(instance, tags)

    @staticmethod
    def represent(item: Item, tags: list[dict[str, Any]]) -> dict[str, Any]:
        # Reads build the dict directly: DRF's per-field machinery was most of a list's
        # time. UUIDs and datetimes are left to the orjson renderer, which writes them as
        # DRF would. The declared fields above still drive validation and the schema.
        return {
            "id": item.id,
            "title": item.title,
            "description": item.description,
            "owner_id": item.owner_id,
            "tags": tags,
            "created_at": item.created_at,
            "updated_at": item.updated_at,
        }
