"""Object grants given by people: the sharing API and the admin's object-permissions pages.

The rules (README, "Security"):

- Sharing needs object `share` on the row and the model permission `share_<model>`.
- A sharer grants at most the actions it holds on the row itself (its own grants and
  its roles'). Superusers grant anything.
- Sharing with a role opens the row to every present and future holder of that role, so
  it is for the owner, superusers, and sharers who also manage roles (`auth.change_group`).
- Revoking: the owner and superusers revoke any grant; anyone else only grants it made
  itself (`granted_by`). Nobody changes the owner's grants, and changing your own grants
  is a no-op, so nobody locks themselves out.

Each change is recorded on the row with the principal's actions before and after.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models, transaction

from apps.operations.activity import record_rights_change
from apps.rbac.rights import Refused, unrestricted
from apps.teams.models import Membership
from apps.users.models import User
from launch.permissions import (
    OBJECT_ACTIONS,
    Share,
    grants_of,
    normalize_actions,
    object_actions_of,
    owner_id_of,
    share_for,
    share_with_role,
    share_with_user,
)

OWNER_FIXED = "The owner's permissions cannot be changed."
OUTSIDE_TEAM = (
    "This user is not a member of this object's team; invite them to the team first "
    "(as a guest, to share only this)."
)
ROLE_MANAGEMENT = "auth.change_group"


def _ordered(actions: Iterable[str]) -> list[str]:
    return [action for action in OBJECT_ACTIONS if action in set(actions)]


def _check(
    *,
    actor: User,
    obj: models.Model,
    owner_id: Any,
    role: Group | None,
    current: dict[str, Any],
    added: set[str],
    removed: set[str],
) -> None:
    opts = obj._meta
    # What the sharer holds in the object's team: its team role's actions and its grants.
    held = object_actions_of(actor, obj, team_id=getattr(obj, "team_id", None))
    if "share" not in held or not actor.has_perm(f"{opts.app_label}.share_{opts.model_name}"):
        raise Refused("You may not share this.")
    is_owner = actor.pk == owner_id
    if role is not None and not (is_owner or actor.has_perm(ROLE_MANAGEMENT)):
        raise Refused("Only the owner, or a sharer who also manages roles, may share with a role.")
    if beyond := added - held:
        raise Refused(
            f"You may grant only what you hold on this: not {', '.join(_ordered(beyond))}."
        )
    if not is_owner and (others := {a for a in removed if current[a] != actor.pk}):
        raise Refused(
            f"You may revoke only grants you made yourself: not {', '.join(_ordered(others))}."
        )


def _in_team(user: User, obj: models.Model) -> bool:
    """Whether `user` belongs to `obj`'s team (sharing stays inside a team; revoking a
    former member's grants is always allowed)."""
    team_id = getattr(obj, "team_id", None)
    if team_id is None:
        return True
    return Membership.objects.filter(user_id=user.pk, team_id=team_id).exists()


def share_check(
    *,
    actor: User | None,
    obj: models.Model,
    user: User | None = None,
    role: Group | None = None,
    actions: Iterable[str],
) -> tuple[set[str], dict[str, Any]] | None:
    """Decide a `share_set` without writing: None when it changes nothing (your own
    grants, or the same set), else (the actions wanted, the grants held now: action ->
    granter). Raises Refused (403) or ValidationError (422) as `share_set` would: 422
    also for a user outside the object's team (issue 13)."""
    if (user is None) == (role is None):
        raise ValueError("Give exactly one of user or role.")
    try:
        wanted = normalize_actions(actions)
    except ValueError as error:
        raise ValidationError({"permissions": [str(error)]}) from None
    owner_id = owner_id_of(obj)
    if user is not None and actor is not None and user.pk == actor.pk:
        return None
    if user is not None and user.pk == owner_id:
        raise ValidationError({"user_id": [OWNER_FIXED]})
    if user is not None and wanted and not _in_team(user, obj):
        raise ValidationError({"user_id": [OUTSIDE_TEAM]})
    current = grants_of(obj, user=user, role=role)
    added, removed = wanted - current.keys(), current.keys() - wanted
    if not added and not removed:
        return None
    if actor is not None and not unrestricted(actor):
        _check(
            actor=actor,
            obj=obj,
            owner_id=owner_id,
            role=role,
            current=current,
            added=added,
            removed=removed,
        )
    return wanted, current


@transaction.atomic
def share_set(
    *,
    actor: User | None,
    obj: models.Model,
    user: User | None = None,
    role: Group | None = None,
    actions: Iterable[str],
) -> Share:
    """Set one principal's grants on `obj` (exactly one of `user`, `role`) to exactly
    `actions`; an empty set revokes them all. `change`, `delete` and `share` imply `view`.

    Refused (403) when the change breaks the rules above; 422 for unknown actions or the
    owner's grants. Side effects: grant rows (new ones name `actor` as their granter);
    one activity entry on `obj` when anything changed.
    """
    # One writer at a time per row: the checks read grants that a concurrent change of
    # the same row could otherwise invalidate between check and write.
    list(type(obj)._default_manager.select_for_update().filter(pk=obj.pk).values_list("pk"))
    decided = share_check(actor=actor, obj=obj, user=user, role=role, actions=actions)
    if decided is None:
        return share_for(obj, user=user, role=role)
    wanted, current = decided
    if user is not None:
        share_with_user(obj, user, wanted, granted_by=actor)
        principal: dict[str, Any] = {"principal_type": "user", "principal_id": str(user.pk)}
        key = f"grants of user {user.email}"
    else:
        assert role is not None
        share_with_role(obj, role, wanted, granted_by=actor)
        principal = {"principal_type": "role", "principal_id": role.pk}
        key = f"grants of role {role.name}"
    record_rights_change(
        actor=actor,
        target=obj,
        kind="grants",
        changes={key: (_ordered(current), _ordered(wanted))},
        **principal,
    )
    return share_for(obj, user=user, role=role)
