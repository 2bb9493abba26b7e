from __future__ import annotations

from rest_framework import serializers

from apps.items.models import Item
from apps.tags.serializers import TagBriefSerializer


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
