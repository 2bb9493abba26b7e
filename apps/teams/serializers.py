from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.plans.quotas import QuotaConfig
from apps.teams.models import Invitation, Membership, Team, TeamRole
from apps.teams.roles import role_permission_codenames
from apps.teams.services.invitations import invitation_state, mask_email
from apps.users.serializers import UserPublicSerializer, full_name_field, password_field


class TeamRoleBriefSerializer(serializers.ModelSerializer[TeamRole]):
    class Meta:
        model = TeamRole
        fields = ["id", "name", "key"]


class TeamSerializer(serializers.ModelSerializer[Team]):
    """A team as its members see it. Read from `selectors.team_list`/`team_get`, whose
    annotations give the member count and the caller's own role and default flag."""

    owner_id = serializers.UUIDField(read_only=True, allow_null=True)
    member_count = serializers.IntegerField(read_only=True)
    slug = serializers.SlugField(
        max_length=60, required=False, help_text="Made from the name when left out."
    )
    my_role = serializers.SerializerMethodField(
        help_text="Your role in this team (null for a superuser who is not a member)."
    )
    plan = serializers.SerializerMethodField(
        help_text="The key of the team's plan (the default plan when none is set); staff "
        "change it in the admin."
    )
    is_default = serializers.BooleanField(
        read_only=True, help_text="The team you work in when a request names none."
    )

    class Meta:
        model = Team
        fields = [
            "id",
            "name",
            "slug",
            "owner_id",
            "is_personal",
            "plan",
            "member_count",
            "my_role",
            "is_default",
            "created_at",
        ]
        read_only_fields = ["id", "owner_id", "is_personal", "plan", "created_at"]
        extra_kwargs = {"name": {"min_length": 1}}
        # Slug uniqueness is the service's (409, not 422).
        validators: list[Any] = []

    def get_plan(self, team: Team) -> str:
        return team.plan.key if team.plan is not None else QuotaConfig.from_settings().default_plan

    @extend_schema_field(TeamRoleBriefSerializer(allow_null=True))
    def get_my_role(self, team: Any) -> dict[str, Any] | None:
        if getattr(team, "my_role_id", None) is None:
            return None
        return {"id": team.my_role_id, "name": team.my_role_name, "key": team.my_role_key}


class TeamRoleSerializer(serializers.ModelSerializer[TeamRole]):
    key = serializers.CharField(
        read_only=True,
        help_text="owner, admin, member or viewer for the default roles; empty for custom ones.",
    )
    permissions = serializers.ListField(
        child=serializers.CharField(max_length=255),
        required=False,
        max_length=500,
        help_text="`app_label.codename` strings from GET /teams/{id}/permissions.",
    )
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = TeamRole
        fields = ["id", "name", "key", "description", "permissions", "member_count"]
        read_only_fields = ["id"]
        extra_kwargs = {"name": {"min_length": 1}}
        validators: list[Any] = []

    def to_representation(self, role: TeamRole) -> dict[str, Any]:
        count = getattr(role, "member_count", None)
        return {
            "id": role.pk,
            "name": role.name,
            "key": role.key,
            "description": role.description,
            "permissions": sorted(role_permission_codenames(role)),
            "member_count": role.memberships.count() if count is None else count,
        }


class MemberSerializer(serializers.ModelSerializer[Membership]):
    user_id = serializers.UUIDField(read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    full_name = serializers.CharField(source="user.full_name", read_only=True)
    role = TeamRoleBriefSerializer(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user_id", "email", "full_name", "role", "joined_at"]


class MemberRoleSerializer(serializers.Serializer[Any]):
    role_id = serializers.UUIDField(help_text="A role of this team (GET /teams/{id}/roles).")


class InvitationCreateSerializer(serializers.Serializer[Any]):
    email = serializers.EmailField(max_length=255)
    role_id = serializers.UUIDField(help_text="A role of this team (GET /teams/{id}/roles).")


class InvitationSerializer(serializers.ModelSerializer[Invitation]):
    role = TeamRoleBriefSerializer(read_only=True)
    invited_by_id = serializers.UUIDField(read_only=True, allow_null=True)
    state = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = [
            "id",
            "email",
            "role",
            "invited_by_id",
            "state",
            "created_at",
            "expires_at",
            "accepted_at",
            "revoked_at",
        ]

    def get_state(self, invitation: Invitation) -> str:
        """pending, accepted, revoked or expired."""
        return invitation_state(invitation)


class InvitationPreviewSerializer(serializers.Serializer[Invitation]):
    """What a landing page shows for a live invitation: no ids, the email masked."""

    team_name = serializers.CharField(source="team.name")
    role = serializers.CharField(source="role.name")
    invited_by = serializers.SerializerMethodField()
    email = serializers.SerializerMethodField(help_text="Masked: `a**@example.com`.")
    expires_at = serializers.DateTimeField()

    def get_invited_by(self, invitation: Invitation) -> str:
        inviter = invitation.invited_by
        return (inviter.full_name or inviter.email) if inviter else ""

    def get_email(self, invitation: Invitation) -> str:
        return mask_email(invitation.email)


class InvitationAcceptedSerializer(serializers.Serializer[Any]):
    team = TeamSerializer()
    role = TeamRoleBriefSerializer()


class InvitationSignupSerializer(serializers.Serializer[Any]):
    """Accepting without an account: the account is made with the invited email. A
    signed-in caller sends no body, so nothing is required here; without a sign-in, the
    view answers 401 when `password` is missing."""

    password = password_field(
        required=False,
        help_text="Only without a sign-in: the new account's password (signup's rules).",
    )
    full_name = full_name_field(required=False, default="")

    def validate_full_name(self, value: str | None) -> str:
        return value or ""


class InvitationSignedUpSerializer(UserPublicSerializer):
    """The new account (as signup answers) and the membership it was given."""

    membership = InvitationAcceptedSerializer(read_only=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        user, membership = instance
        data = super().to_representation(user)
        data["membership"] = InvitationAcceptedSerializer(membership).data
        return data
