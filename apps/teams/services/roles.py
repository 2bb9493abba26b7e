"""Team role writes. The four default roles are fixed (their permissions follow the
installed apps, `apps.teams.roles`); a team adds custom roles from the team catalog.

Every write needs `teams.manage_roles`, and a non-owner changes only roles whose every
right it holds and adds only permissions it holds, so creating a role and joining it is
never a gain. Permission changes are recorded on the team with before and after."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from apps.operations.activity import record_rights_change
from apps.teams.models import Team, TeamRole
from apps.teams.roles import MANAGE_ROLES, role_permission_codenames, team_permission_catalog
from apps.teams.services.access import (
    require_holds_permissions,
    require_holds_team_role,
    require_team_permission,
)
from apps.users.models import User
from launch.errors import Conflict

DUPLICATE_ROLE = "This team already has a role with this name."
DEFAULT_FIXED = "The default team roles cannot be renamed, changed or deleted; add a custom role."
ROLE_IN_USE = "Members hold this role: give them another role first."


def _permissions(codenames: Iterable[str]) -> list:
    wanted = set(codenames)
    found = [
        p for p in team_permission_catalog() if f"{p.content_type.app_label}.{p.codename}" in wanted
    ]
    unknown = wanted - {f"{p.content_type.app_label}.{p.codename}" for p in found}
    if unknown:
        raise ValidationError(
            {"permissions": [f"Not a team permission: {c}." for c in sorted(unknown)]}
        )
    return found


def _name_taken(team: Team, name: str, exclude: TeamRole | None = None) -> bool:
    roles = TeamRole.objects.filter(team=team, name__iexact=name)
    if exclude is not None:
        roles = roles.exclude(pk=exclude.pk)
    return roles.exists()


def _save(role: TeamRole) -> None:
    try:
        with transaction.atomic():
            role.save()
    except IntegrityError:
        raise Conflict(DUPLICATE_ROLE) from None


def _set_permissions(*, actor: User | None, team: Team, role: TeamRole, granted: list) -> None:
    before = role_permission_codenames(role)
    role.permissions.set(granted)
    after = role_permission_codenames(role)
    if before != after:
        record_rights_change(
            actor=actor,
            target=team,
            kind="team_role_permissions",
            changes={f"permissions of role {role.name}": (sorted(before), sorted(after))},
            team_id=str(team.pk),
            role_id=str(role.pk),
        )


@transaction.atomic
def team_role_create(
    *,
    actor: User | None,
    team: Team,
    name: str,
    description: str = "",
    permissions: Iterable[str] = (),
) -> TeamRole:
    """Create a custom role in `team`. 422 for permissions outside the team catalog,
    403 for ones the actor lacks, 409 for a taken name. Side effects: the role, its
    permission links, an activity entry."""
    require_team_permission(actor, team, MANAGE_ROLES, "manage roles")
    granted = _permissions(permissions)
    require_holds_permissions(
        actor,
        team,
        frozenset(f"{p.content_type.app_label}.{p.codename}" for p in granted),
        f"create the role {name} with these",
    )
    if _name_taken(team, name):
        raise Conflict(DUPLICATE_ROLE)
    role = TeamRole(team=team, name=name, description=description)
    role.full_clean(validate_unique=False, validate_constraints=False)
    _save(role)
    _set_permissions(actor=actor, team=team, role=role, granted=granted)
    return role


@transaction.atomic
def team_role_update(
    *,
    actor: User | None,
    team: Team,
    role: TeamRole,
    name: str | None = None,
    description: str | None = None,
    permissions: Iterable[str] | None = None,
) -> TeamRole:
    """Change a custom role (a default one: only its description). Side effects: the
    role; an activity entry when its permissions change."""
    require_team_permission(actor, team, MANAGE_ROLES, "manage roles")
    require_holds_team_role(actor, team, role, f"change the role {role.name}")
    renamed = name is not None and name != role.name
    if role.key and (renamed or permissions is not None):
        raise Conflict(DEFAULT_FIXED)
    if renamed:
        assert name is not None
        if _name_taken(team, name, exclude=role):
            raise Conflict(DUPLICATE_ROLE)
        role.name = name
    if description is not None:
        role.description = description
    if renamed or description is not None:
        role.full_clean(validate_unique=False, validate_constraints=False)
        _save(role)
    if permissions is not None:
        granted = _permissions(permissions)
        require_holds_permissions(
            actor,
            team,
            frozenset(f"{p.content_type.app_label}.{p.codename}" for p in granted),
            f"give the role {role.name} these",
        )
        _set_permissions(actor=actor, team=team, role=role, granted=granted)
    return role


@transaction.atomic
def team_role_delete(*, actor: User | None, team: Team, role: TeamRole) -> None:
    """Delete a custom role nobody holds (409 otherwise, and for default roles).
    Side effects: its pending invitations go with it; an activity entry."""
    require_team_permission(actor, team, MANAGE_ROLES, "manage roles")
    if role.key:
        raise Conflict(DEFAULT_FIXED)
    require_holds_team_role(actor, team, role, f"delete the role {role.name}")
    if role.memberships.exists():
        raise Conflict(ROLE_IN_USE)
    record_rights_change(
        actor=actor,
        target=team,
        kind="team_role_deleted",
        changes={f"permissions of role {role.name}": (sorted(role_permission_codenames(role)), [])},
        team_id=str(team.pk),
        role_id=str(role.pk),
    )
    role.delete()
