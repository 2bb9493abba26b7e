"""Role membership: who holds which role.

A non-superuser adds or removes members of a role only when it holds every right the
role carries (`apps.rbac.rights.require_holds_role`), so joining a role never gives
anyone (the actor included) a right the actor lacked. Each change is recorded on the
user with its roles before and after.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction

from apps.operations.activity import record_rights_change
from apps.rbac.rights import require_holds_role
from apps.users.models import User
from launch.permissions import forget_roles
from launch.rights_cache import rights_of, user_rights_changed


def user_role_names(user: User) -> list[str]:
    """Names of `user`'s roles, sorted: from a `groups` prefetch when there is one, else
    from its cached rights (launch/rights_cache.py; no query when they are cached)."""
    if "groups" in getattr(user, "_prefetched_objects_cache", {}):
        return sorted(group.name for group in user.groups.all())
    return list(rights_of(user).role_names)


def _stored_roles(user: User) -> dict[int, str]:
    return dict(Group.objects.filter(user=user).values_list("pk", "name"))


def _record(actor: User | None, user: User, before: dict[int, str], after: dict[int, str]) -> None:
    forget_roles(user)
    if before != after:
        user_rights_changed([user.pk])
        record_rights_change(
            actor=actor,
            target=user,
            kind="roles",
            changes={"roles": (sorted(before.values()), sorted(after.values()))},
        )


@transaction.atomic
def role_add_member(*, actor: User | None, role: Group, user: User) -> None:
    """Give `user` the role (idempotent). Side effects: an activity entry when it is new."""
    require_holds_role(actor, role, f"add members to the role {role.name}")
    before = _stored_roles(user)
    user.groups.add(role)
    _record(actor, user, before, {**before, role.pk: role.name})


@transaction.atomic
def role_remove_member(*, actor: User | None, role: Group, user: User) -> bool:
    """Take the role from `user`. Returns whether the user held it.
    Side effects: an activity entry when it did."""
    require_holds_role(actor, role, f"remove members from the role {role.name}")
    before = _stored_roles(user)
    user.groups.remove(role)
    _record(actor, user, before, {pk: name for pk, name in before.items() if pk != role.pk})
    return role.pk in before


@transaction.atomic
def user_set_roles(*, actor: User | None, user: User, roles: Iterable[Group]) -> None:
    """Replace `user`'s roles with exactly `roles`. A non-superuser must hold every right
    of each role it adds or removes. Side effects: an activity entry when they change."""
    wanted = {role.pk: role for role in roles}
    before = _stored_roles(user)
    changed = [role for pk, role in wanted.items() if pk not in before]
    changed += list(Group.objects.filter(pk__in=set(before) - set(wanted)))
    for role in sorted(changed, key=lambda role: role.name):
        require_holds_role(actor, role, f"change who holds the role {role.name}")
    user.groups.set(list(wanted.values()))
    _record(actor, user, before, {pk: role.name for pk, role in wanted.items()})


@transaction.atomic
def role_assign_default(*, user: User) -> Group | None:
    """Give a new user the default role, creating the default roles first if needed.
    Returns the role, or None when `DEFAULT_ROLE` is empty (no role for new users).
    The system acts here (the setting chose the role). Side effects: an activity entry."""
    from apps.rbac.services.roles import roles_ensure_defaults

    if not settings.DEFAULT_ROLE:
        return None
    role = Group.objects.filter(name=settings.DEFAULT_ROLE).first()
    if role is None:
        roles_ensure_defaults()
        role = Group.objects.get(name=settings.DEFAULT_ROLE)
    role_add_member(actor=None, role=role, user=user)
    return role
