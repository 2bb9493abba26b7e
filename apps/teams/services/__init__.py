"""Team writes: teams, memberships, team roles and invitations. Each takes the acting
user and applies the team-scoped no-escalation rule (`access`); each change of rights
lands in the activity log."""

from apps.teams.services.invitations import (
    invitation_accept,
    invitation_create,
    invitation_preview,
    invitation_revoke,
    invitation_send,
)
from apps.teams.services.members import member_add, member_remove, member_set_role
from apps.teams.services.roles import team_role_create, team_role_delete, team_role_update
from apps.teams.services.teams import (
    team_create,
    team_delete,
    team_ensure_personal,
    team_release_user,
    team_update,
)

__all__ = [
    "invitation_accept",
    "invitation_create",
    "invitation_preview",
    "invitation_revoke",
    "invitation_send",
    "member_add",
    "member_remove",
    "member_set_role",
    "team_create",
    "team_delete",
    "team_ensure_personal",
    "team_release_user",
    "team_role_create",
    "team_role_delete",
    "team_role_update",
    "team_update",
]
