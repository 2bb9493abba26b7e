from __future__ import annotations

from typing import Any

from auditlog.models import LogEntry
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

ACTIONS = {
    LogEntry.Action.CREATE: "create",
    LogEntry.Action.UPDATE: "update",
    LogEntry.Action.DELETE: "delete",
    LogEntry.Action.ACCESS: "access",
}


class ActivitySerializer(serializers.ModelSerializer[LogEntry]):
    """One change: who (actor), what (object_type, object_id, changes old -> new), when,
    and from which request (request_id = the X-Request-ID of that request)."""

    action = serializers.SerializerMethodField()
    object_type = serializers.SerializerMethodField()
    object_id = serializers.CharField(source="object_pk")
    actor_id = serializers.UUIDField(allow_null=True)
    request_id = serializers.CharField(source="cid", allow_null=True)
    changes = serializers.SerializerMethodField()

    class Meta:
        model = LogEntry
        fields = [
            "id",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "actor_id",
            "actor_email",
            "timestamp",
            "request_id",
            "remote_addr",
            "additional_data",
        ]

    @extend_schema_field({"type": "string", "enum": sorted(set(ACTIONS.values()))})
    def get_action(self, entry: LogEntry) -> str:
        return ACTIONS.get(entry.action, str(entry.action))

    @extend_schema_field(OpenApiTypes.STR)
    def get_object_type(self, entry: LogEntry) -> str:
        content_type = entry.content_type
        return f"{content_type.app_label}.{content_type.model}"

    @extend_schema_field(
        {
            "type": "object",
            "description": "field -> [old, new]; m2m fields -> {type, operation, objects}",
            "additionalProperties": True,
        }
    )
    def get_changes(self, entry: LogEntry) -> dict[str, Any]:
        return dict(entry.changes_dict)
