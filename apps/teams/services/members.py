"""Membership writes: changing a member's role, removing a member, leaving.

A team always keeps an owner: the last owner cannot leave, be removed or lose the role
(409), and the founder of a personal team stays its owner. Changes lock the team's row,
so two owners demoting each other at once cannot both succeed. Each change is recorded
on the team with the member's role before and after."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.operations.activity import record_rights_change
from apps.teams.models import OWNER, Membership, Team, TeamRole
from apps.teams.roles import MANAGE_MEMBERS
from apps.teams.services.access import require_holds_team_role, require_team_permission
from apps.teams.services.teams import restore_default
from apps.users.models import User
from launch.errors import Conflict, NotFound

LAST_OWNER = (
    "A team needs an owner: make another member an owner before the last one leaves "
    "or gives up the role."
)
PERSONAL_OWNER = "The owner of a personal team stays its owner."
ALREADY_MEMBER = "This person is already a member of the team."


def _locked(team: Team, membership: Membership) -> Membership:
    """Lock the team's row, then read the membership afresh: 404 if either went away
    while the request was on its way (a concurrent removal or deletion)."""
    if not Team.objects.select_for_update().filter(pk=team.pk).values_list("pk").exists():
        raise NotFound()
    fresh = Membership.objects.select_related("user", "role").filter(pk=membership.pk).first()
    if fresh is None:
        raise NotFound()
    return fresh


def _require_keeps_owner(team: Team, membership: Membership) -> None:
    if membership.role.key != OWNER:
        return
    if team.is_personal and team.owner_id == membership.user_id:
        raise Conflict(PERSONAL_OWNER)
    if not Membership.objects.filter(team=team, role__key=OWNER).exclude(pk=membership.pk).exists():
        raise Conflict(LAST_OWNER)


def _hand_on_founder(team: Team, leaving: Membership) -> None:
    """Keep `Team.owner` naming an owner when the one it names stops being one."""
    if team.owner_id != leaving.user_id:
        return
    heir = (
        Membership.objects.filter(team=team, role__key=OWNER)
        .exclude(pk=leaving.pk)
        .order_by("joined_at")
        .first()
    )
    if heir is not None:
        Team.objects.filter(pk=team.pk).update(owner_id=heir.user_id)
        team.owner_id = heir.user_id


@transaction.atomic
def member_set_role(
    *, actor: User | None, team: Team, membership: Membership, role: TeamRole
) -> Membership:
    """Give a member another role of the same team. Needs `teams.manage_members`, and
    the right to hand out both the old and the new role (see `access`).

    409 when it would leave the team without an owner. Side effects: the membership; an
    activity entry on the team."""
    membership = _locked(team, membership)
    if role.team_id != team.pk:
        raise ValidationError({"role_id": ["No role with this id in this team."]})
    if membership.role_id == role.pk:
        return membership
    require_team_permission(actor, team, MANAGE_MEMBERS, "change members' roles")
    old = membership.role
    require_holds_team_role(actor, team, old, f"change the role of a member who is {old.name}")
    require_holds_team_role(actor, team, role, f"give the role {role.name}")
    if role.key != OWNER:
        _require_keeps_owner(team, membership)
        _hand_on_founder(team, membership)
    membership.role = role
    membership.save(update_fields=["role"])
    record_rights_change(
        actor=actor,
        target=team,
        kind="team_roles",
        changes={f"role of {membership.user.email}": (old.name, role.name)},
        team_id=str(team.pk),
        user_id=str(membership.user_id),
    )
    return membership


@transaction.atomic
def member_remove(*, actor: User | None, team: Team, membership: Membership) -> None:
    """Remove a member, or leave (`actor` is the member). Removing someone else needs
    `teams.manage_members` and the right to take its role away; leaving needs nothing.

    409 for the last owner and for a personal team's founder. Side effects: the
    membership; a member whose default team this was falls back to its personal team;
    an activity entry on the team."""
    membership = _locked(team, membership)
    leaving = actor is not None and actor.pk == membership.user_id
    if not leaving:
        require_team_permission(actor, team, MANAGE_MEMBERS, "remove members")
        require_holds_team_role(
            actor, team, membership.role, f"remove a member who is {membership.role.name}"
        )
    _require_keeps_owner(team, membership)
    _hand_on_founder(team, membership)
    membership.delete()
    if membership.is_default:
        restore_default(membership.user)
    record_rights_change(
        actor=actor,
        target=team,
        kind="team_members",
        changes={f"role of {membership.user.email}": (membership.role.name, None)},
        team_id=str(team.pk),
        user_id=str(membership.user_id),
        left=leaving,
    )


@transaction.atomic
def member_add(*, actor: User | None, team: Team, user: User, role: TeamRole) -> Membership:
    """Add `user` to `team` with `role` directly, without an invitation: for the system
    (commands, data seeding; `actor=None`) and team managers who may hand out the role.
    People join through invitations in the API. 409 if already a member.

    Side effects: the membership (never the user's default team); an activity entry on
    the team."""
    if not Team.objects.select_for_update().filter(pk=team.pk).values_list("pk").exists():
        raise NotFound()
    if role.team_id != team.pk:
        raise ValidationError({"role_id": ["No role with this id in this team."]})
    require_team_permission(actor, team, MANAGE_MEMBERS, "add members")
    require_holds_team_role(actor, team, role, f"give the role {role.name}")
    if Membership.objects.filter(team=team, user=user).exists():
        raise Conflict(ALREADY_MEMBER)
    membership = Membership.objects.create(team=team, user=user, role=role)
    record_rights_change(
        actor=actor,
        target=team,
        kind="team_members",
        changes={f"role of {user.email}": (None, role.name)},
        team_id=str(team.pk),
        user_id=str(user.pk),
    )
    return membership
