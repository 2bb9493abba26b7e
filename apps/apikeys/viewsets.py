"""`/api-keys`: a user's own keys. Personal keys are not role-governed: any signed-in
person manages its own (list, create, revoke) and no one else's (404). Key requests are
refused here (403): a program never manages keys."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.apikeys.models import ApiKey
from apps.apikeys.selectors import apikey_list
from apps.apikeys.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
)
from apps.apikeys.services import apikey_create, apikey_revoke
from apps.users.models import User
from launch.api.permissions import PersonOnly
from launch.api.viewsets import LaunchGenericViewSet

# Key requests are refused here, so the schema offers only a person's credentials.
# (drf-spectacular takes security requirement objects here, whatever its hints say.)
PERSON_AUTH: Any = [{"OAuth2PasswordBearer": []}, {"CookieAuth": []}]


@extend_schema_view(
    list=extend_schema(
        operation_id="api_keys-read_api_keys",
        tags=["api-keys"],
        auth=PERSON_AUTH,
        summary="List your API keys (never their secrets)",
    ),
    create=extend_schema(
        operation_id="api_keys-create_api_key",
        tags=["api-keys"],
        auth=PERSON_AUTH,
        summary="Create an API key; the response shows the key once",
        request=ApiKeyCreateSerializer,
        responses={201: ApiKeyCreatedSerializer},
    ),
    destroy=extend_schema(
        operation_id="api_keys-revoke_api_key",
        tags=["api-keys"],
        auth=PERSON_AUTH,
        summary="Revoke an API key at once",
        responses={204: OpenApiResponse(description="Revoked (or already revoked).")},
    ),
)
class ApiKeyViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    LaunchGenericViewSet,
):
    serializer_class = ApiKeySerializer
    permission_classes = [IsAuthenticated, PersonOnly]
    filter_backends: list[Any] = []
    # Keys are read to be revoked; a stale list from a replica would show a revoked key.
    replica_actions = frozenset()

    def get_queryset(self) -> QuerySet[ApiKey]:
        if getattr(self, "swagger_fake_view", False):
            return ApiKey.objects.none()
        return apikey_list(user=cast(User, self.request.user))

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, raw = apikey_create(user=cast(User, request.user), **serializer.validated_data)
        body = ApiKeyCreatedSerializer(key, context={"raw": raw}).data
        # The one response that carries a secret: no cache may keep it.
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    def perform_destroy(self, instance: ApiKey) -> None:
        apikey_revoke(key=instance, actor=cast(User, self.request.user))
