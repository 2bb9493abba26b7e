from __future__ import annotations

import uuid
from typing import Any, cast

from django.contrib.auth.models import Group
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.filters import SearchFilter
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.rbac import services
from apps.rbac.selectors import permission_catalog, role_list, user_permission_codenames
from apps.rbac.serializers import (
    MemberSerializer,
    MyPermissionsSerializer,
    PermissionSerializer,
    RoleSerializer,
)
from apps.users.models import User
from apps.users.serializers import MessageSerializer
from launch.api.filters import StableOrderingFilter
from launch.api.permissions import ModelPermission, PersonOnlyToChange, credential_scopes
from launch.api.viewsets import LaunchGenericViewSet, LaunchModelViewSet


@extend_schema_view(list=extend_schema(operation_id="permissions-read_permissions"))
class PermissionViewSet(mixins.ListModelMixin, LaunchGenericViewSet):
    """The permission catalog roles are built from. Needs `auth.view_group`."""

    queryset = permission_catalog()
    serializer_class = PermissionSerializer
    permission_classes = [ModelPermission]
    permission_model = Group
    filter_backends: list[Any] = []


@extend_schema_view(
    list=extend_schema(operation_id="roles-read_roles"),
    create=extend_schema(operation_id="roles-create_role"),
    retrieve=extend_schema(operation_id="roles-read_role"),
    partial_update=extend_schema(operation_id="roles-update_role"),
    destroy=extend_schema(
        operation_id="roles-delete_role",
        summary="Delete a role (409 for the default role)",
        responses={200: MessageSerializer},
    ),
)
class RoleViewSet(LaunchModelViewSet):
    """Roles (auth groups). Gated by `auth.{view,add,change,delete}_group`; roles carry
    no object grants of their own, so only the model layer applies here, and the services
    refuse (403) a change of a role holding rights the caller lacks. API keys may read
    roles (with the scope) but never change them: 403."""

    queryset = role_list()
    serializer_class = RoleSerializer
    permission_classes = [PersonOnlyToChange, ModelPermission]
    filter_backends = [SearchFilter, StableOrderingFilter]
    search_fields = ["name"]
    ordering_fields = ["name"]
    ordering = ["name"]
    lookup_value_converter = "int"
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def _actor(self) -> User:
        return cast(User, self.request.user)

    def _fresh(self, role: Group) -> Group:
        return role_list().get(pk=role.pk)

    def perform_create(self, serializer: Any) -> None:
        role = services.role_create(actor=self._actor(), **serializer.validated_data)
        serializer.instance = self._fresh(role)

    def perform_update(self, serializer: Any) -> None:
        role = services.role_update(
            actor=self._actor(), role=serializer.instance, **serializer.validated_data
        )
        serializer.instance = self._fresh(role)

    def perform_destroy(self, instance: Any) -> None:
        services.role_delete(actor=self._actor(), role=instance)

    @extend_schema(
        request=MemberSerializer,
        responses={201: RoleSerializer},
        summary="Add a member",
        operation_id="roles-add_member",
    )
    @action(detail=True, methods=["post"], url_path="members", permission_action="change")
    def add_member(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        role = self.get_object()
        serializer = MemberSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.role_add_member(
            actor=self._actor(), role=role, user=serializer.validated_data["user_id"]
        )
        return Response(RoleSerializer(self._fresh(role)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("user_id", str, OpenApiParameter.PATH)],
        responses={200: MessageSerializer},
        summary="Remove a member",
        operation_id="roles-remove_member",
    )
    @action(
        detail=True,
        methods=["delete"],
        url_path=r"members/(?P<user_id>[^/.]+)",
        permission_action="change",
    )
    def remove_member(self, request: Request, user_id: str, *args: Any, **kwargs: Any) -> Response:
        role = self.get_object()
        try:
            user = User.objects.get(pk=uuid.UUID(user_id))
        except (ValueError, User.DoesNotExist):
            raise Http404 from None
        if not services.role_remove_member(actor=self._actor(), role=role, user=user):
            raise Http404
        return Response({"message": "Member removed successfully"})


class MyPermissionsView(APIView):
    """What the current user may do at the model layer, so a front end can hide the rest;
    with an API key, what the key may do (its scopes the user still holds)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=MyPermissionsSerializer, operation_id="users-read_my_permissions", tags=["users"]
    )
    def get(self, request: Request) -> Response:
        user = request.user
        permissions = user_permission_codenames(user)  # type: ignore[arg-type]
        scopes = credential_scopes(request)
        if scopes is not None:
            permissions = [codename for codename in permissions if codename in scopes]
        data = {
            "roles": services.user_role_names(user),  # type: ignore[arg-type]
            "permissions": permissions,
        }
        return Response(MyPermissionsSerializer(data).data)
