"""Teams: workspaces that users join through a membership holding one team role.

Phase 1 (docs/teams.md): teams, their roles, memberships and invitations exist and are
managed through the API and the admin; user-facing objects do not carry a team yet, so a
team role decides what one may do to the team itself (its members, roles, invitations)
and names the rights it will carry over the team's objects in phase 2.

Team roles are not Django groups on purpose: a user added to a group gains its
permissions everywhere, which is exactly the leak across teams the design forbids.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from launch.models import UUIDModel

# The default roles every team gets; `key` marks them (custom roles have none).
OWNER, ADMIN, MEMBER, VIEWER, GUEST = "owner", "admin", "member", "viewer", "guest"
DEFAULT_ROLE_KEYS = (OWNER, ADMIN, MEMBER, VIEWER, GUEST)


class Team(UUIDModel):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    # The founding owner; ownership itself is the `owner` team role (several may hold it).
    # Deleting a user goes through `user_delete`, which hands its teams on first
    # (`team_release_user`); SET_NULL keeps any other path from being blocked.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_teams",
    )
    is_personal = models.BooleanField(
        default=False, help_text="Created with its owner's account; cannot be deleted."
    )
    # Its limits (apps.plans); empty: the default plan, USAGE_DEFAULT_PLAN. Set by staff.
    plan = models.ForeignKey(
        "plans.Plan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="teams",
        help_text="Empty: the default plan (USAGE_DEFAULT_PLAN).",
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["name", "id"]
        # Rights a team role can carry over the team itself (see apps.teams.roles).
        default_permissions = ("view", "change")
        permissions = [
            ("manage_members", "Can change members' roles and remove members"),
            ("invite_members", "Can invite members and revoke invitations"),
            ("manage_roles", "Can create, change and delete the team's roles"),
            ("view_activity", "Can read the team's activity log"),
            ("manage_api_keys", "Can create, list and revoke the team's API keys"),
        ]
        constraints = [
            models.UniqueConstraint(
                "owner",
                condition=Q(is_personal=True),
                name="teams_team_one_personal_per_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TeamRole(UUIDModel):
    """A permission set inside one team. The four default roles (`key` set) take their
    permissions from `apps.teams.roles`, so they follow the apps installed; a custom role
    stores its own."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField(max_length=100)
    key = models.CharField(
        max_length=20,
        blank=True,
        default="",
        choices=[(key, key) for key in DEFAULT_ROLE_KEYS],
        help_text="Set on the default roles, whose permissions are fixed.",
    )
    description = models.CharField(max_length=255, blank=True, default="")
    permissions: models.ManyToManyField[Permission, TeamRole] = models.ManyToManyField(
        Permission, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team", "name"]
        constraints = [
            models.UniqueConstraint(
                "team", Lower("name"), name="teams_teamrole_team_name_ci_unique"
            ),
            models.UniqueConstraint(
                "team", "key", condition=~Q(key=""), name="teams_teamrole_team_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.team.name})"


class Membership(UUIDModel):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    # RESTRICT, not PROTECT: deleting the team deletes both; deleting a role in use is not.
    role = models.ForeignKey(TeamRole, on_delete=models.RESTRICT, related_name="memberships")
    # The team a client that sends no `X-Team-ID` works in (phase 2); one per user.
    is_default = models.BooleanField(default=False)
    joined_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[models.Manager[Membership]]

    class Meta:
        ordering = ["team", "joined_at"]
        constraints = [
            models.UniqueConstraint("user", "team", name="teams_membership_user_team_unique"),
            models.UniqueConstraint(
                "user", condition=Q(is_default=True), name="teams_membership_one_default"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class Invitation(UUIDModel):
    """A single-use, expiring invitation. Only the SHA-256 of its token is stored; the
    token itself exists in the email and nowhere else."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(max_length=255)
    role = models.ForeignKey(TeamRole, on_delete=models.CASCADE, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["team", "email"])]

    def __str__(self) -> str:
        return f"{self.email} to {self.team.name}"
