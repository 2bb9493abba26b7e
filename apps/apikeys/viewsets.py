"""`/api-keys`: a user's own keys. Personal keys are not role-governed: any signed-in
person manages its own (list, create, revoke) and no one else's (404). Key requests are
refused here (403): a program never manages keys.

`/teams/{team_id}/api-keys`: a team's keys, managed by its members whose role carries
`teams.manage_api_keys` (403 otherwise; 404 for a team the caller is not in)."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.apikeys.models import ApiKey
from apps.apikeys.selectors import apikey_list, team_apikey_list
from apps.apikeys.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    TeamApiKeyCreatedSerializer,
    TeamApiKeySerializer,
)
from apps.apikeys.services import apikey_create, apikey_revoke, team_apikey_revoke
from apps.teams.roles import MANAGE_API_KEYS
from apps.teams.services.access import require_team_permission
from apps.teams.viewsets import TEAM_ID, TeamScopedViewSet, path_uuid
from apps.users.models import User
from apps.users.serializers import MessageSerializer
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


KEY_ID = OpenApiParameter("key_id", uuid.UUID, OpenApiParameter.PATH)


@extend_schema_view(
    list=extend_schema(
        operation_id="teams-read_api_keys",
        tags=["teams"],
        auth=PERSON_AUTH,
        parameters=[TEAM_ID],
        summary="List a team's API keys (`teams.manage_api_keys`; never their secrets)",
    ),
    create=extend_schema(
        operation_id="teams-create_api_key",
        tags=["teams"],
        auth=PERSON_AUTH,
        parameters=[TEAM_ID],
        summary="Create a team API key (`teams.manage_api_keys`); the response shows the key "
        "once. It acts as you, within its scopes, while you manage the team's keys.",
        request=ApiKeyCreateSerializer,
        responses={201: TeamApiKeyCreatedSerializer},
    ),
    destroy=extend_schema(
        operation_id="teams-revoke_api_key",
        tags=["teams"],
        auth=PERSON_AUTH,
        parameters=[TEAM_ID, KEY_ID],
        summary="Revoke a team API key at once (`teams.manage_api_keys`)",
        responses={200: MessageSerializer},
    ),
)
class TeamApiKeyViewSet(TeamScopedViewSet):
    serializer_class = TeamApiKeySerializer
    queryset = ApiKey.objects.none()
    # A program never manages keys, its team's included.
    permission_classes = [IsAuthenticated, PersonOnly]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        team = self.team()
        require_team_permission(self.actor(), team, MANAGE_API_KEYS, "see the team's API keys")
        return self.page(team_apikey_list(team=team), TeamApiKeySerializer)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        team = self.team()  # an outsider's 404 comes before any validation error
        body = ApiKeyCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        key, raw = apikey_create(user=self.actor(), team=team, **body.validated_data)
        fresh = team_apikey_list(team=team).get(pk=key.pk)
        data = TeamApiKeyCreatedSerializer(fresh, context={"raw": raw}).data
        # The one response that carries a secret: no cache may keep it.
        return Response(data, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        team = self.team()
        key = team_apikey_list(team=team).filter(pk=path_uuid(self.kwargs["key_id"])).first()
        if key is None:
            raise Http404
        team_apikey_revoke(actor=self.actor(), team=team, key=key)
        return Response({"message": "API key revoked successfully"})
