from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.tags.models import Tag


class TagSerializer(serializers.ModelSerializer[Tag]):
    created_by_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Tag
        fields = ["id", "name", "color", "created_by_id", "created_at"]
        read_only_fields = ["id", "created_at"]


def brief_tag(tag: Tag) -> dict[str, Any]:
    return {"id": tag.id, "name": tag.name, "color": tag.color}


class TagBriefSerializer(serializers.ModelSerializer[Tag]):
    """A tag as embedded in other resources (an item's `tags`)."""

    class Meta:
        model = Tag
        fields = ["id", "name", "color"]
        read_only_fields = fields

    def to_representation(self, instance: Tag) -> dict[str, Any]:
        return brief_tag(instance)
