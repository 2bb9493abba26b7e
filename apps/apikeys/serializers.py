from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.apikeys.models import STATUSES, ApiKey


class ApiKeySerializer(serializers.ModelSerializer[ApiKey]):
    """A key as listed: never its secret, nor its hash."""

    status = serializers.ChoiceField(
        choices=STATUSES, read_only=True, source="*", help_text="active, expired or revoked"
    )

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "prefix",
            "scopes",
            "status",
            "expires_at",
            "revoked_at",
            "created_at",
            "last_used_at",
            "last_used_ip",
        ]
        read_only_fields = fields

    def to_representation(self, instance: ApiKey) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["status"] = instance.status_at(timezone.now())
        return data


class ApiKeyCreateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(
        child=serializers.CharField(max_length=255),
        max_length=500,
        help_text="Model permissions as `app_label.codename` (GET /users/me/permissions "
        "lists yours); each must be one you hold. An empty list makes a key that can only "
        "identify its user.",
    )
    expires_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When the key stops working; none: never."
    )


class KeyShownOnce(serializers.Serializer[ApiKey]):
    """Adds the key string itself (`context["raw"]`) to a created key's answer."""

    key = serializers.SerializerMethodField(
        help_text="The key itself. Shown in this response only: it is stored hashed and "
        "cannot be read again."
    )

    @extend_schema_field(OpenApiTypes.STR)
    def get_key(self, obj: ApiKey) -> str:
        return str(self.context["raw"])


class ApiKeyCreatedSerializer(KeyShownOnce, ApiKeySerializer):
    """The created key, with the key string itself."""

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class TeamApiKeySerializer(ApiKeySerializer):
    """A team key as its team's key managers list it: also who made it (the key acts as
    that person, within its scopes, while it still manages the team's keys)."""

    team_id = serializers.UUIDField(read_only=True)
    created_by_id = serializers.UUIDField(source="user_id", read_only=True)
    created_by_email = serializers.EmailField(source="user.email", read_only=True)

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "team_id", "created_by_id", "created_by_email"]
        read_only_fields = fields


class TeamApiKeyCreatedSerializer(KeyShownOnce, TeamApiKeySerializer):
    """The created team key, with the key string itself."""

    class Meta(TeamApiKeySerializer.Meta):
        fields = [*TeamApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields
