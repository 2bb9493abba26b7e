"""Who may do what inside a team: the team-scoped form of the no-escalation rule.

- Seeing a team at all takes a membership (or superuser): the views answer 404 before
  any of this runs, so a team's id reveals nothing to outsiders.
- A member may do what its team role's permissions say (`apps.teams.roles`), in that
  team only; holding a role in one team gives nothing in another.
- Nobody hands out more than it holds: giving, changing or taking away a role (or
  inviting with it) needs every permission that role carries, and the `owner` role is
  given and taken only by owners. A member therefore cannot promote itself, and an
  admin cannot make (or unmake) owners.

`actor=None` is the system (a command, a migration, signup): it passes every check.
"""

from __future__ import annotations

from apps.rbac.rights import SHOWN, Refused, unrestricted
from apps.teams.models import OWNER, Membership, Team, TeamRole
from apps.teams.roles import assignable_codenames, role_permission_codenames
from apps.users.models import User


def actor_membership(actor: User | None, team: Team) -> Membership | None:
    if actor is None:
        return None
    return Membership.objects.select_related("role").filter(team=team, user_id=actor.pk).first()


def actor_team_permissions(actor: User | None, team: Team) -> frozenset[str]:
    """What `actor` holds in `team`: its role's permissions (all of them for the system
    and superusers; nothing for an inactive user or a non-member)."""
    if unrestricted(actor):
        return assignable_codenames()
    assert actor is not None
    if not actor.is_active:
        return frozenset()
    membership = actor_membership(actor, team)
    return role_permission_codenames(membership.role) if membership else frozenset()


def is_team_owner(actor: User | None, team: Team) -> bool:
    if unrestricted(actor):
        return True
    membership = actor_membership(actor, team)
    return membership is not None and membership.role.key == OWNER


def require_team_permission(actor: User | None, team: Team, codename: str, doing: str) -> None:
    """403 unless `actor` holds `codename` in `team`."""
    if codename not in actor_team_permissions(actor, team):
        raise Refused(f"You may not {doing} in this team.")


def require_holds_team_role(actor: User | None, team: Team, role: TeamRole, doing: str) -> None:
    """403 unless `actor` may hand out (or take away) `role`: it is an owner when the role
    is `owner`, and holds every permission the role carries."""
    if unrestricted(actor):
        return
    if role.key == OWNER and not is_team_owner(actor, team):
        raise Refused(f"Only the team's owners may {doing}.")
    require_holds_permissions(actor, team, role_permission_codenames(role), doing)


def require_holds_permissions(
    actor: User | None, team: Team, codenames: frozenset[str], doing: str
) -> None:
    """403 unless `actor` holds every permission in `codenames` in `team`."""
    missing = sorted(codenames - actor_team_permissions(actor, team))
    if missing:
        shown = ", ".join(missing[:SHOWN]) + (", ..." if len(missing) > SHOWN else "")
        raise Refused(f"You may not {doing}: it needs rights you do not hold ({shown}).")
