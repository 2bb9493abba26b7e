"""The no-escalation rule: what a principal holds, and whether an actor may hand it out.

No sequence of API or admin operations by a non-superuser leaves any principal (the
actor, another user, a role) with a right the actor did not already hold. The services
that change rights (`apps.rbac.services`) ask here first:

- Object grants: a sharer grants at most the actions it holds on the object, its own
  and its roles' (`apps.rbac.services.shares`).
- Roles: a non-superuser changes a role (its name, description, permissions or members,
  or deletes it) only when it holds every right the role carries, each of its model
  permissions and each of its object grants, and it adds only permissions it holds.
  Joining a role is then never a gain, for anyone.
- Staff and superuser flags and users' own permissions: superusers only.
- Accounts: a non-superuser manages (edits, sets the password of, activates, deletes)
  only accounts that are not superusers and whose model permissions it holds, so no one
  takes over a stronger account.

`actor=None` is the system (a command, a task, a fixture): it passes every check, and a
request never reaches a service without its user.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group, Permission
from django.db.models import Exists, OuterRef, Q

from apps.users.models import User
from launch import errors
from launch.permissions import grant_models

SHOWN = 5  # missing rights named in a refusal; the rest are counted


class Refused(errors.PermissionDenied):
    """403: the change would hand out a right the actor does not hold."""

    code = "escalation_refused"
    default_message = "You may not hand out rights you do not hold."


def unrestricted(actor: User | None) -> bool:
    """The system, or an active superuser: every check passes."""
    return actor is None or (actor.is_active and actor.is_superuser)


def _codenames(permissions: Iterable[Permission]) -> set[str]:
    return {f"{p.content_type.app_label}.{p.codename}" for p in permissions}


def stored_model_permissions(user: User) -> set[str]:
    """The model permissions `user` holds, its own and its roles', as `app.codename`,
    read fresh from the database (never the per-object cache a request may hold) and
    whether or not the user is active: reactivating it brings them all back."""
    rows = (
        Permission.objects.filter(Q(user=user) | Q(group__user=user))
        .values_list("content_type__app_label", "codename")
        .distinct()
    )
    return {f"{app_label}.{codename}" for app_label, codename in rows}


def actor_model_permissions(actor: User) -> set[str]:
    """What an acting user may hand out at the model layer (nothing if inactive)."""
    if not actor.is_active:
        return set()
    if actor.is_superuser:
        return _codenames(Permission.objects.select_related("content_type"))
    return stored_model_permissions(actor)


def role_permissions(role: Group) -> set[str]:
    return _codenames(role.permissions.select_related("content_type"))


def missing_role_grants(actor: User, role: Group) -> list[str]:
    """The role's object grants the actor does not hold (own or via its roles), as
    "change on items.item <id>", at most SHOWN + 1 of them."""
    if unrestricted(actor):
        return []
    actor_roles = list(actor.groups.values_list("pk", flat=True))
    missing: list[str] = []
    for model, user_model, group_model in grant_models():
        same_row = {
            "content_object_id": OuterRef("content_object_id"),
            "permission_id": OuterRef("permission_id"),
        }
        own = user_model.objects.filter(user_id=actor.pk, **same_row)
        via_roles = group_model.objects.filter(group_id__in=actor_roles, **same_row)
        rows = (
            group_model.objects.filter(group=role)
            .exclude(Exists(own))
            .exclude(Exists(via_roles))
            .values_list("permission__codename", "content_object_id")
            .order_by("content_object_id", "permission__codename")[: SHOWN + 1 - len(missing)]
        )
        label = model._meta.label_lower
        suffix = f"_{model._meta.model_name}"
        missing += [f"{code.removesuffix(suffix)} on {label} {pk}" for code, pk in rows]
        if len(missing) > SHOWN:
            break
    return missing


def missing_role_rights(actor: User | None, role: Group) -> list[str]:
    """Every right `role` carries that `actor` does not hold: model permissions, then
    object grants (empty when the actor may change the role)."""
    if actor is None or unrestricted(actor):
        return []
    missing = sorted(role_permissions(role) - actor_model_permissions(actor))
    return missing + missing_role_grants(actor, role)


def _refuse(doing: str, missing: list[str]) -> Refused:
    shown = ", ".join(missing[:SHOWN]) + (", ..." if len(missing) > SHOWN else "")
    return Refused(f"You may not {doing}: it needs rights you do not hold ({shown}).")


def require_holds_role(actor: User | None, role: Group, doing: str) -> None:
    """Refuse (403) unless `actor` holds every right `role` carries."""
    if missing := missing_role_rights(actor, role):
        raise _refuse(doing, missing)


def require_holds_permissions(actor: User | None, codenames: Iterable[str], doing: str) -> None:
    """Refuse (403) unless `actor` holds every model permission in `codenames`."""
    if actor is None or unrestricted(actor):
        return
    if missing := sorted(set(codenames) - actor_model_permissions(actor)):
        raise _refuse(doing, missing)


def require_superuser(actor: User | None, doing: str) -> None:
    if not unrestricted(actor):
        raise Refused(f"Only superusers may {doing}.")


def covers_account(actor: User | None, target: User) -> bool:
    """Whether `actor` may manage `target`'s account: a superuser always; anyone else
    only an account that is not a superuser and holds no model permission the actor
    lacks (taking it over would be a gain). Object grants are not compared: whoever holds
    `users.change_user` is trusted with the data of the accounts it manages."""
    if actor is None or unrestricted(actor):
        return True
    if target.pk == actor.pk:
        return actor.is_active
    if target.is_superuser:
        return False
    return stored_model_permissions(target) <= actor_model_permissions(actor)
