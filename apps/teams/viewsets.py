"""The teams API. Every route under `/teams/{id}` first finds the team among the
caller's own (superusers: any team), so a team the caller is not in is a 404 whatever
the route; what a member may do there is its team role's business (403), decided in the
services (`apps.teams.services.access`).

These viewsets opt out of the object-permission layer visibly: teams carry no guardian
grants, their rights are memberships."""

from __future__ import annotations

import uuid
from typing import Any, cast

from auditlog.models import LogEntry
from django.contrib.auth.models import Permission
from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.operations.selectors import team_activity_list
from apps.operations.serializers import ActivitySerializer
from apps.rbac.serializers import PermissionSerializer
from apps.teams import selectors, services
from apps.teams.models import Invitation, Membership, Team, TeamRole
from apps.teams.roles import (
    INVITE_MEMBERS,
    VIEW_ACTIVITY,
    VIEW_TEAM,
    team_permission_catalog,
)
from apps.teams.serializers import (
    InvitationAcceptedSerializer,
    InvitationCreateSerializer,
    InvitationPreviewSerializer,
    InvitationSerializer,
    InvitationSignedUpSerializer,
    InvitationSignupSerializer,
    MemberRoleSerializer,
    MemberSerializer,
    TeamRoleSerializer,
    TeamSerializer,
)
from apps.teams.services.access import require_team_permission
from apps.users.models import User
from apps.users.serializers import MessageSerializer
from apps.users.throttles import SignupThrottle
from launch.api.permissions import PersonOnly, PersonOnlyToChange, is_api_key_request
from launch.api.throttles import UserScopedThrottle
from launch.api.viewsets import LaunchGenericViewSet

TEAM_ID = OpenApiParameter("team_id", uuid.UUID, OpenApiParameter.PATH)
USER_ID = OpenApiParameter("user_id", uuid.UUID, OpenApiParameter.PATH)
ROLE_ID = OpenApiParameter("role_id", uuid.UUID, OpenApiParameter.PATH)
INVITATION_ID = OpenApiParameter("invitation_id", uuid.UUID, OpenApiParameter.PATH)
TOKEN = OpenApiParameter("token", str, OpenApiParameter.PATH, description="From the email's link.")
LAST_OWNER_409 = OpenApiResponse(
    description="The last owner (or a personal team's founder) cannot leave or lose the role."
)
GONE_410 = OpenApiResponse(description="The invitation expired, was used or was revoked.")


def path_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404 from None


class InvitationThrottle(UserScopedThrottle):
    scope = "invitation"


class TeamScopedViewSet(LaunchGenericViewSet):
    # Team writes change who holds which rights: a person's act, never an API key's
    # (keys may read the teams their user is in).
    permission_classes = [IsAuthenticated, PersonOnlyToChange]
    filter_backends: list[Any] = []
    # Membership is a right: never read it from a replica that may lag behind a removal.
    replica_actions: frozenset[str] = frozenset()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if request.method in ("POST", "PUT", "PATCH"):
            # A body that does not parse (too deep, NUL, bad JSON) is the request's fault
            # whatever it targets: say so first, as the other apps' routes do, rather
            # than after looking the team and its rows up.
            request.data  # noqa: B018

    def actor(self) -> User:
        return cast(User, self.request.user)

    def team(self) -> Team:
        if not hasattr(self, "_team"):
            self._team = selectors.team_get(user=self.actor(), team_id=self.kwargs["team_id"])
        return self._team

    def page(self, queryset: QuerySet[Any], serializer: Any) -> Response:
        rows = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer(rows, many=True).data)


@extend_schema_view(
    list=extend_schema(operation_id="teams-read_teams", summary="List your teams"),
    create=extend_schema(
        operation_id="teams-create_team", summary="Create a team (you become its owner)"
    ),
    retrieve=extend_schema(operation_id="teams-read_team", parameters=[TEAM_ID]),
    partial_update=extend_schema(
        operation_id="teams-update_team",
        parameters=[TEAM_ID],
        summary="Rename a team (`teams.change_team`)",
    ),
    destroy=extend_schema(
        operation_id="teams-delete_team",
        parameters=[TEAM_ID],
        summary="Delete a team (owners only; 409 for a personal team)",
        responses={200: MessageSerializer, 409: OpenApiResponse(description="A personal team.")},
    ),
)
class TeamViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    TeamScopedViewSet,
):
    serializer_class = TeamSerializer
    queryset = Team.objects.none()
    lookup_url_kwarg = "team_id"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Team]:
        return selectors.team_list(user=self.actor())

    def get_object(self) -> Team:
        return self.team()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Accounts made outside signup (commands, fixtures) get their team on first use.
        services.team_ensure_personal(user=self.actor())
        return super().list(request, *args, **kwargs)

    def perform_create(self, serializer: Any) -> None:
        team = services.team_create(actor=self.actor(), **serializer.validated_data)
        serializer.instance = selectors.team_get(user=self.actor(), team_id=team.pk)

    def perform_update(self, serializer: Any) -> None:
        team = services.team_update(
            actor=self.actor(), team=serializer.instance, **serializer.validated_data
        )
        serializer.instance = selectors.team_get(user=self.actor(), team_id=team.pk)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.team_delete(actor=self.actor(), team=self.team())
        return Response({"message": "Team deleted successfully"})


@extend_schema_view(
    list=extend_schema(
        operation_id="teams-read_members", parameters=[TEAM_ID], summary="List a team's members"
    ),
    partial_update=extend_schema(
        operation_id="teams-update_member_role",
        parameters=[TEAM_ID, USER_ID],
        request=MemberRoleSerializer,
        responses={200: MemberSerializer, 409: LAST_OWNER_409},
        summary="Change a member's role (`teams.manage_members`; only owners give `owner`)",
    ),
    destroy=extend_schema(
        operation_id="teams-remove_member",
        parameters=[TEAM_ID, USER_ID],
        responses={200: MessageSerializer, 409: LAST_OWNER_409},
        summary="Remove a member, or leave (your own user id)",
    ),
)
class MemberViewSet(TeamScopedViewSet):
    serializer_class = MemberSerializer
    queryset = Membership.objects.none()

    def membership(self) -> Membership:
        membership = (
            selectors.member_list(team=self.team())
            .filter(user_id=path_uuid(self.kwargs["user_id"]))
            .first()
        )
        if membership is None:
            raise Http404
        return membership

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        team = self.team()
        require_team_permission(self.actor(), team, VIEW_TEAM, "see the members")
        return self.page(selectors.member_list(team=team), MemberSerializer)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        membership = self.membership()
        body = MemberRoleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        role = TeamRole.objects.filter(team=self.team(), pk=body.validated_data["role_id"]).first()
        if role is None:
            raise Http404
        membership = services.member_set_role(
            actor=self.actor(), team=self.team(), membership=membership, role=role
        )
        return Response(MemberSerializer(membership).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        leaving = self.membership()
        services.member_remove(actor=self.actor(), team=self.team(), membership=leaving)
        return Response({"message": "Member removed successfully"})


@extend_schema_view(
    list=extend_schema(
        operation_id="teams-read_roles", parameters=[TEAM_ID], summary="List a team's roles"
    ),
    create=extend_schema(
        operation_id="teams-create_role",
        parameters=[TEAM_ID],
        summary="Add a custom role (`teams.manage_roles`)",
    ),
    retrieve=extend_schema(operation_id="teams-read_role", parameters=[TEAM_ID, ROLE_ID]),
    partial_update=extend_schema(
        operation_id="teams-update_role",
        parameters=[TEAM_ID, ROLE_ID],
        summary="Change a role (default roles: only the description)",
    ),
    destroy=extend_schema(
        operation_id="teams-delete_role",
        parameters=[TEAM_ID, ROLE_ID],
        responses={
            200: MessageSerializer,
            409: OpenApiResponse(description="A default role, or one members hold."),
        },
    ),
)
class TeamRoleViewSet(TeamScopedViewSet):
    serializer_class = TeamRoleSerializer
    queryset = TeamRole.objects.none()

    def role(self) -> TeamRole:
        role = (
            selectors.role_list(team=self.team())
            .filter(pk=path_uuid(self.kwargs["role_id"]))
            .first()
        )
        if role is None:
            raise Http404
        return role

    def _visible_team(self) -> Team:
        team = self.team()
        require_team_permission(self.actor(), team, VIEW_TEAM, "see the roles")
        return team

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.page(selectors.role_list(team=self._visible_team()), TeamRoleSerializer)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self._visible_team()
        return Response(TeamRoleSerializer(self.role()).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        team = self.team()  # an outsider's 404 comes before any validation error
        body = TeamRoleSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        role = services.team_role_create(actor=self.actor(), team=team, **body.validated_data)
        fresh = selectors.role_list(team=team).get(pk=role.pk)
        return Response(TeamRoleSerializer(fresh).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        role = self.role()
        body = TeamRoleSerializer(role, data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        services.team_role_update(
            actor=self.actor(), team=self.team(), role=role, **body.validated_data
        )
        return Response(TeamRoleSerializer(self.role()).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        services.team_role_delete(actor=self.actor(), team=self.team(), role=self.role())
        return Response({"message": "Role deleted successfully"})


@extend_schema_view(
    list=extend_schema(
        operation_id="teams-read_permissions",
        parameters=[TEAM_ID],
        summary="The permissions a team role may hold",
    )
)
class TeamPermissionViewSet(TeamScopedViewSet):
    serializer_class = PermissionSerializer
    queryset = Permission.objects.none()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        self.team()
        return self.page(team_permission_catalog(), PermissionSerializer)


@extend_schema_view(
    list=extend_schema(
        operation_id="teams-read_invitations",
        parameters=[TEAM_ID],
        summary="List a team's invitations (`teams.invite_members`)",
    ),
    create=extend_schema(
        operation_id="teams-create_invitation",
        parameters=[TEAM_ID],
        request=InvitationCreateSerializer,
        responses={
            201: InvitationSerializer,
            409: OpenApiResponse(description="Already a member."),
        },
        summary="Invite someone by email (the link is emailed, never returned)",
    ),
    destroy=extend_schema(
        operation_id="teams-revoke_invitation",
        parameters=[TEAM_ID, INVITATION_ID],
        responses={200: MessageSerializer, 409: OpenApiResponse(description="Already accepted.")},
        summary="Revoke an invitation",
    ),
)
class InvitationViewSet(TeamScopedViewSet):
    serializer_class = InvitationSerializer
    queryset = Invitation.objects.none()

    def get_throttles(self) -> list[Any]:
        # Inviting and resending each email someone who did not ask for it.
        if self.action in ("create", "resend"):
            return [InvitationThrottle()]
        return super().get_throttles()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        team = self.team()
        require_team_permission(self.actor(), team, INVITE_MEMBERS, "see the invitations")
        return self.page(selectors.invitation_list(team=team), InvitationSerializer)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        team = self.team()
        body = InvitationCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        role = TeamRole.objects.filter(team=team, pk=body.validated_data["role_id"]).first()
        if role is None:
            raise Http404
        invitation = services.invitation_create(
            actor=self.actor(), team=team, email=body.validated_data["email"], role=role
        )
        fresh = selectors.invitation_list(team=team).get(pk=invitation.pk)
        return Response(InvitationSerializer(fresh).data, status=status.HTTP_201_CREATED)

    def invitation(self, team: Any) -> Any:
        """The team's invitation the URL names (404 for another team's or none)."""
        found = (
            selectors.invitation_list(team=team)
            .filter(pk=path_uuid(self.kwargs["invitation_id"]))
            .first()
        )
        if found is None:
            raise Http404
        return found

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        team = self.team()
        invitation = self.invitation(team)
        services.invitation_revoke(actor=self.actor(), team=team, invitation=invitation)
        return Response({"message": "Invitation revoked successfully"})

    @extend_schema(
        operation_id="teams-resend_invitation",
        parameters=[TEAM_ID, INVITATION_ID],
        request=None,
        responses={
            200: InvitationSerializer,
            409: OpenApiResponse(description="Not pending (accepted, revoked or expired)."),
        },
        summary="Email a pending invitation again with a new link (the old link stops working)",
    )
    def resend(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        team = self.team()
        invitation = self.invitation(team)
        services.invitation_resend(actor=self.actor(), team=team, invitation=invitation)
        fresh = selectors.invitation_list(team=team).get(pk=invitation.pk)
        return Response(InvitationSerializer(fresh).data)


@extend_schema_view(
    list=extend_schema(
        operation_id="teams-read_activity",
        parameters=[TEAM_ID],
        summary="The team's activity log, newest first (`teams.view_activity`): changes "
        "to its objects and to its members, roles, invitations and keys",
    )
)
class TeamActivityViewSet(TeamScopedViewSet):
    serializer_class = ActivitySerializer
    queryset = LogEntry.objects.none()
    # The log names people and every change of rights, and no key scope can name
    # `teams.view_activity` (team rights are not in the key scope catalog): people only.
    permission_classes = [IsAuthenticated, PersonOnly]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        team = self.team()
        require_team_permission(self.actor(), team, VIEW_ACTIVITY, "read the activity log")
        return self.page(team_activity_list(team_id=team.pk), ActivitySerializer)


@extend_schema_view(
    retrieve=extend_schema(
        operation_id="invitations-read_invitation",
        parameters=[TOKEN],
        responses={200: InvitationPreviewSerializer, 410: GONE_410},
        summary="What an invitation link shows (no sign-in needed; the email is masked)",
    ),
)
class InvitationTokenViewSet(LaunchGenericViewSet):
    """The invitation link's two routes. Tokens carry 256 random bits, so guessing is
    hopeless; the throttle keeps a scripted client from trying anyway."""

    serializer_class = InvitationPreviewSerializer
    throttle_classes = [InvitationThrottle]
    queryset = Invitation.objects.none()
    filter_backends: list[Any] = []
    replica_actions: frozenset[str] = frozenset()

    def get_permissions(self) -> list[Any]:
        # Accepting is open to anyone holding the link: a signed-in person accepts as
        # itself, someone without an account creates it (the handler tells them apart).
        return [AllowAny()]

    def get_throttles(self) -> list[Any]:
        throttles = super().get_throttles()
        if self.action == "accept" and not self.request.user.is_authenticated:
            throttles.append(SignupThrottle())  # it may create an account
        return throttles

    def retrieve(self, request: Request, token: str, *args: Any, **kwargs: Any) -> Response:
        invitation = services.invitation_preview(token=token)
        return Response(InvitationPreviewSerializer(invitation).data)

    @extend_schema(
        operation_id="invitations-accept_invitation",
        parameters=[TOKEN],
        request=InvitationSignupSerializer,
        responses={
            200: InvitationAcceptedSerializer,
            201: InvitationSignedUpSerializer,
            401: OpenApiResponse(description="Neither signed in nor a password sent."),
            409: OpenApiResponse(
                description="Already a member, or (no sign-in) the email has an account."
            ),
            410: GONE_410,
        },
        summary="Accept an invitation: signed in with the invited email (200), or without "
        "an account, creating it with `{password, full_name?}` (201, as signup)",
    )
    def accept(self, request: Request, token: str, *args: Any, **kwargs: Any) -> Response:
        # The body is parsed first, even where it is ignored (a signed-in caller): a
        # hostile body is a 400 from the parsers before any token is looked up.
        request.data  # noqa: B018
        if not request.user.is_authenticated:
            return self._sign_up(request, token)
        if is_api_key_request(request):
            raise exceptions.PermissionDenied(PersonOnly.message)
        membership = services.invitation_accept(user=request.user, token=token)
        team = selectors.team_get(user=request.user, team_id=membership.team_id)
        data = {"team": team, "role": membership.role}
        return Response(InvitationAcceptedSerializer(data).data)

    def _sign_up(self, request: Request, token: str) -> Response:
        data = request.data
        if not (hasattr(data, "get") and "password" in data):
            raise exceptions.NotAuthenticated(
                "Sign in to accept, or send a password to create your account."
            )
        body = InvitationSignupSerializer(data=data)
        body.is_valid(raise_exception=True)
        membership = services.invitation_signup(token=token, **body.validated_data)
        user = membership.user
        team = selectors.team_get(user=user, team_id=membership.team_id)
        created = (user, {"team": team, "role": membership.role})
        return Response(InvitationSignedUpSerializer(created).data, status=status.HTTP_201_CREATED)
