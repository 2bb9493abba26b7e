"""`GET, PUT /{resource}/{id}/shares`: who holds which object permissions on a row.

Mix `ShareableMixin` into a `LaunchModelViewSet` whose model has direct grant tables and
an `owner_field`. Both methods need object `share` (the creator holds it) and the role
permission `<app>.share_<model>`; superusers pass. API keys may read shares (with the
scope), never set them (403). A PUT is decided and written by
`apps.rbac.services.share_set`: a sharer grants at most what it holds, shares with a
role only as the owner or a role manager, and revokes only the grants it made (the owner
and superusers revoke any but the owner's own).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from apps.rbac.services import share_set
from launch.api.permissions import PersonOnly, is_api_key_request
from launch.permissions import OBJECT_ACTIONS, Share, shares_of


class ShareSerializer(serializers.Serializer[Share]):
    user_id = serializers.UUIDField(required=False, help_text="Share with this user ...")
    role_id = serializers.IntegerField(required=False, help_text="... or with this role.")
    permissions = serializers.ListField(
        child=serializers.ChoiceField(choices=OBJECT_ACTIONS),
        help_text="The complete set of grants; `change`, `delete` and `share` imply "
        "`view`; an empty list revokes every grant.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("user_id" in attrs) == ("role_id" in attrs):
            raise serializers.ValidationError("Give exactly one of user_id or role_id.")
        if "user_id" in attrs:
            attrs["user"] = get_user_model().objects.filter(pk=attrs["user_id"]).first()
            if attrs["user"] is None:
                raise serializers.ValidationError({"user_id": "No user with this id."})
        else:
            attrs["role"] = Group.objects.filter(pk=attrs["role_id"]).first()
            if attrs["role"] is None:
                raise serializers.ValidationError({"role_id": "No role with this id."})
        return attrs

    def to_representation(self, instance: Share) -> dict[str, Any]:
        data = super().to_representation(instance)
        return {key: value for key, value in data.items() if value is not None}


ShareListSerializer = inline_serializer(
    "ShareList",
    {"data": ShareSerializer(many=True), "count": serializers.IntegerField(min_value=0)},
)


class ShareableMixin:
    @extend_schema(
        methods=["GET"], responses=ShareListSerializer, summary="List the grants on this row"
    )
    @extend_schema(
        methods=["PUT"],
        request=ShareSerializer,
        responses=ShareSerializer,
        summary="Set one user's or role's grants on this row",
    )
    @action(detail=True, methods=["get", "put"], url_path="shares", permission_action="share")
    def shares(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if request.method != "GET" and is_api_key_request(request):
            raise PermissionDenied(PersonOnly.message)  # sharing hands out rights
        obj = self.get_object()  # type: ignore[attr-defined]
        if request.method == "GET":
            shares = shares_of(obj)
            data = [ShareSerializer(share).data for share in shares]
            return Response({"data": data, "count": len(shares)})

        serializer = ShareSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        share = share_set(
            actor=request.user,  # type: ignore[arg-type]
            obj=obj,
            user=serializer.validated_data.get("user"),
            role=serializer.validated_data.get("role"),
            actions=serializer.validated_data["permissions"],
        )
        return Response(ShareSerializer(share).data)


def shares_schema(resource: str, singular: str) -> list[Any]:
    """Operation ids for one resource's share routes: `extend_schema_view(shares=...)`."""
    return [
        extend_schema(methods=["GET"], operation_id=f"{resource}-read_{singular}_shares"),
        extend_schema(methods=["PUT"], operation_id=f"{resource}-set_{singular}_shares"),
    ]
