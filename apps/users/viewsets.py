"""`/users/`: management by superusers, signup, and each user's own record (`/users/me`)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.filters import SearchFilter
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from apps.users import email_change, selectors, services
from apps.users.models import User
from apps.users.permissions import IsSuperuser, IsSuperuserOrSelf
from apps.users.serializers import (
    EmailConfirmSerializer,
    MessageSerializer,
    UpdatePasswordSerializer,
    UserCreateSerializer,
    UserPublicSerializer,
    UserRegisterSerializer,
    UserUpdateMeSerializer,
    UserUpdateSerializer,
)
from apps.users.throttles import PasswordCheckThrottle, RecoveryThrottle, SignupThrottle
from launch.api.permissions import PersonOnly
from launch.api.viewsets import DeleteMessageMixin, LaunchGenericViewSet

USER_DELETED = {"message": "User deleted successfully"}


def _input(serializer_class: type, request: Request, **kwargs: Any) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _public(user: User, code: int = status.HTTP_200_OK) -> Response:
    return Response(UserPublicSerializer(user).data, status=code)


class UserViewSet(
    DeleteMessageMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    LaunchGenericViewSet,
):
    serializer_class = UserPublicSerializer
    lookup_url_kwarg = "user_id"  # upstream's path parameter name, kept for generated clients
    filter_backends = [SearchFilter]
    search_fields = ["email", "full_name"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Any]:
        if self.action == "list":
            return selectors.user_list_values()
        return User.objects.all()

    def get_throttles(self) -> list[BaseThrottle]:
        # A mapped method shares its action's options, so `PATCH /users/me` (which checks
        # `current_password` when the email changes) gets its throttle here.
        if self.action == "update_me":
            return [PasswordCheckThrottle()]
        return super().get_throttles()

    def get_permissions(self) -> list[BasePermission]:
        if self.action in ("signup", "confirm_email"):
            return [AllowAny()]
        # No action: a method this route does not map, which answers 405 to anyone signed in.
        if self.action in ("update_me", "delete_me", "update_password_me"):
            # An API key may read its user (`me`), never change its email, its password
            # or delete it: 403 (apps/apikeys).
            return [IsAuthenticated(), PersonOnly()]
        if self.action in (None, "me"):
            return [IsAuthenticated()]
        if self.action == "retrieve":
            return [IsSuperuserOrSelf()]
        return [IsSuperuser()]

    @extend_schema(operation_id="users-read_users", tags=["users"])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        operation_id="users-create_user",
        tags=["users"],
        request=UserCreateSerializer,
        responses={201: UserPublicSerializer},
    )
    def create(self, request: Request) -> Response:
        user = services.user_create(
            actor=request.user,  # type: ignore[arg-type]
            **_input(UserCreateSerializer, request),
        )
        return _public(user, status.HTTP_201_CREATED)

    @extend_schema(operation_id="users-read_user_by_id", tags=["users"])
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        operation_id="users-update_user",
        tags=["users"],
        request=UserUpdateSerializer,
        responses={200: UserPublicSerializer},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = services.user_update(
            user=self.get_object(),
            actor=request.user,  # type: ignore[arg-type]
            **_input(UserUpdateSerializer, request),
        )
        return _public(user)

    @extend_schema(
        operation_id="users-delete_user", tags=["users"], responses={200: MessageSerializer}
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance: User) -> None:  # type: ignore[override]
        if instance.pk == self.request.user.pk:
            raise PermissionDenied("Super users are not allowed to delete themselves")
        services.user_delete(user=instance)

    @extend_schema(
        operation_id="users-register_user",
        tags=["users"],
        request=UserRegisterSerializer,
        responses={201: UserPublicSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        authentication_classes=[],
        throttle_classes=[SignupThrottle],
    )
    def signup(self, request: Request) -> Response:
        user = services.user_register(**_input(UserRegisterSerializer, request))
        return _public(user, status.HTTP_201_CREATED)

    @extend_schema(operation_id="users-read_user_me", tags=["users"])
    @action(detail=False, methods=["get"])
    def me(self, request: Request) -> Response:
        return _public(request.user)  # type: ignore[arg-type]

    @extend_schema(
        operation_id="users-update_user_me",
        tags=["users"],
        request=UserUpdateMeSerializer,
        responses={200: UserPublicSerializer},
        description="`full_name` changes at once. A new `email` needs `current_password` "
        "(400 if wrong) and changes once confirmed: a link goes to the new address, or a "
        "notice to its owner if it is taken, so the answer is the same either way and "
        "still shows the current address.",
    )
    @me.mapping.patch
    def update_me(self, request: Request) -> Response:
        data = _input(UserUpdateMeSerializer, request, context={"user": request.user})
        return _public(services.user_update_me(user=request.user, **data))  # type: ignore[arg-type]

    @extend_schema(
        operation_id="users-confirm_email",
        tags=["users"],
        request=EmailConfirmSerializer,
        responses={200: UserPublicSerializer},
        description="Apply an email change with the token of its confirmation link. 400 "
        "for a bad, expired or used token; 409 if the address was taken since.",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="confirm-email",
        authentication_classes=[],
        throttle_classes=[RecoveryThrottle],
    )
    def confirm_email(self, request: Request) -> Response:
        data = _input(EmailConfirmSerializer, request)
        return _public(email_change.email_change_confirm(token=data["token"]))

    @extend_schema(
        operation_id="users-delete_user_me", tags=["users"], responses={200: MessageSerializer}
    )
    @me.mapping.delete
    def delete_me(self, request: Request) -> Response:
        services.user_delete_self(user=request.user)  # type: ignore[arg-type]
        return Response(USER_DELETED)

    @extend_schema(
        operation_id="users-update_password_me",
        tags=["users"],
        request=UpdatePasswordSerializer,
        responses={200: MessageSerializer},
    )
    @action(
        detail=False,
        methods=["patch"],
        url_path="me/password",
        throttle_classes=[PasswordCheckThrottle],
    )
    def update_password_me(self, request: Request) -> Response:
        services.user_change_password(
            user=request.user,  # type: ignore[arg-type]
            **_input(UpdatePasswordSerializer, request),
        )
        return Response({"message": "Password updated successfully"})
