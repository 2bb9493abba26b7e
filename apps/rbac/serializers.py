from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ObjectDoesNotExist
from rest_framework import serializers

from apps.rbac.selectors import codename_of
from apps.rbac.services import is_default
from apps.users.models import User


class PermissionSerializer(serializers.Serializer[Permission]):
    codename = serializers.SerializerMethodField(help_text="`app_label.codename`")
    name = serializers.CharField(read_only=True)
    app_label = serializers.CharField(source="content_type.app_label", read_only=True)
    model = serializers.CharField(source="content_type.model", read_only=True)

    def get_codename(self, permission: Permission) -> str:
        return codename_of(permission)


class RoleSerializer(serializers.Serializer[Group]):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(max_length=150)
    description = serializers.CharField(max_length=255, allow_blank=True, required=False)
    permissions = serializers.ListField(
        child=serializers.CharField(max_length=255),
        required=False,
        help_text="`app_label.codename` strings from GET /permissions.",
    )
    is_default = serializers.BooleanField(read_only=True)
    user_count = serializers.IntegerField(read_only=True)

    def to_representation(self, role: Group) -> dict[str, Any]:
        try:
            description = role.profile.description
        except ObjectDoesNotExist:
            description = ""
        user_count = getattr(role, "user_count", None)
        return {
            "id": role.pk,
            "name": role.name,
            "description": description,
            "permissions": sorted(codename_of(p) for p in role.permissions.all()),
            "is_default": is_default(role),
            "user_count": role.user_set.count() if user_count is None else user_count,
        }


class MemberSerializer(serializers.Serializer[Any]):
    user_id = serializers.UUIDField()

    def validate_user_id(self, value: Any) -> User:
        user = User.objects.filter(pk=value).first()
        if user is None:
            raise serializers.ValidationError("No user with this id.")
        return user


class MyPermissionsSerializer(serializers.Serializer[Any]):
    roles = serializers.ListField(child=serializers.CharField())
    permissions = serializers.ListField(child=serializers.CharField())
