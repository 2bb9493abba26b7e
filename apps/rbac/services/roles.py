"""Role writes: the API, the admin and `bootstrap` all come through here.

A role is a Django `Group`; its description lives in `RoleProfile`. The default role is
the one `settings.DEFAULT_ROLE` names: new users get it, and it cannot be deleted or
renamed (409) while the setting points at it.

Every write takes the acting user (`actor`; None for the system) and applies the
no-escalation rule of `apps.rbac.rights`: a non-superuser changes only roles whose
every right it holds, and adds only permissions it holds. Permission changes are
recorded in the activity log with before and after.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction

from apps.operations.activity import record_rights_change
from apps.rbac.models import RoleProfile
from apps.rbac.rights import (
    Refused,
    require_holds_permissions,
    require_holds_role,
    role_permissions,
    unrestricted,
)
from apps.rbac.selectors import codename_of, permission_catalog
from apps.users.models import User
from launch.errors import Conflict
from launch.permissions import perm_models
from launch.rights_cache import role_rights_changed

DUPLICATE_ROLE = "A role with this name already exists."
DEFAULT_ROLE_FIXED = "The default role cannot be deleted or renamed."

# Model actions a member holds on every model that can be shared (the user-facing ones).
MEMBER_ACTIONS = ("add", "view", "change", "delete", "share")
VIEWER_ACTIONS = ("view",)


def is_default(role: Group) -> bool:
    return role.name == settings.DEFAULT_ROLE


def reserved_role_names() -> set[str]:
    """Names `roles_ensure_defaults` fills with permissions: a role a non-superuser
    created (and joined) under one of them would gain them at the next `bootstrap`."""
    return {*DEFAULT_DESCRIPTIONS, settings.DEFAULT_ROLE} - {""}


def _require_name_allowed(actor: User | None, name: str) -> None:
    if name in reserved_role_names() and not unrestricted(actor):
        raise Refused(f"Only superusers may create or rename the role {name}.")


def permissions_from_codenames(codenames: Iterable[str]) -> list[Permission]:
    """Catalog permissions for `app_label.codename` strings; unknown ones raise a 422."""
    wanted = set(codenames)
    found = [p for p in permission_catalog() if codename_of(p) in wanted]
    unknown = wanted - {codename_of(p) for p in found}
    if unknown:
        raise ValidationError(
            {"permissions": [f"Unknown permission: {c}." for c in sorted(unknown)]}
        )
    return found


def _save_group(role: Group) -> None:
    try:
        with transaction.atomic():
            role.save()
    except IntegrityError:
        raise Conflict(DUPLICATE_ROLE) from None


def _set_permissions(*, actor: User | None, role: Group, permissions: list[Permission]) -> None:
    before = role_permissions(role)
    after = {codename_of(p) for p in permissions}
    if before == after:
        return
    role.permissions.set(permissions)
    role_rights_changed()
    record_rights_change(
        actor=actor,
        target=role,
        kind="role_permissions",
        changes={"role_permissions": (sorted(before), sorted(after))},
    )


@transaction.atomic
def role_create(
    *,
    actor: User | None,
    name: str,
    description: str = "",
    permissions: Iterable[str] = (),
) -> Group:
    """Create a role holding `permissions`, each of which a non-superuser `actor` must
    hold itself. Side effects: a Group, its RoleProfile and permission links; an activity
    entry for the permissions."""
    granted = permissions_from_codenames(permissions)
    _require_name_allowed(actor, name)
    require_holds_permissions(
        actor, {codename_of(p) for p in granted}, f"create the role {name} with these"
    )
    if Group.objects.filter(name=name).exists():
        raise Conflict(DUPLICATE_ROLE)
    role = Group(name=name)
    _save_group(role)
    RoleProfile.objects.create(role=role, description=description)
    _set_permissions(actor=actor, role=role, permissions=granted)
    return role


@transaction.atomic
def role_update(
    *,
    actor: User | None,
    role: Group,
    name: str | None = None,
    description: str | None = None,
    permissions: Iterable[str] | None = None,
) -> Group:
    """Change the given fields of `role`; `permissions` replaces its set.

    A non-superuser must hold every right the role carries, and every permission it
    adds. Side effects: an activity entry when the permissions change."""
    require_holds_role(actor, role, f"change the role {role.name}")
    if name is not None and name != role.name:
        if is_default(role):
            raise Conflict(DEFAULT_ROLE_FIXED)
        _require_name_allowed(actor, role.name)
        _require_name_allowed(actor, name)
        if Group.objects.filter(name=name).exclude(pk=role.pk).exists():
            raise Conflict(DUPLICATE_ROLE)
        role.name = name
        _save_group(role)
    if description is not None:
        RoleProfile.objects.update_or_create(role=role, defaults={"description": description})
    if permissions is not None:
        granted = permissions_from_codenames(permissions)
        require_holds_permissions(
            actor, {codename_of(p) for p in granted}, f"give the role {role.name} these"
        )
        _set_permissions(actor=actor, role=role, permissions=granted)
    return role


@transaction.atomic
def role_delete(*, actor: User | None, role: Group) -> None:
    """Delete a role. Side effects: its members lose it; its object grants cascade; an
    activity entry names the permissions and the number of members it took away."""
    if is_default(role):
        raise Conflict(DEFAULT_ROLE_FIXED)
    require_holds_role(actor, role, f"delete the role {role.name}")
    record_rights_change(
        actor=actor,
        target=role,
        kind="role_deleted",
        changes={"role_permissions": (sorted(role_permissions(role)), [])},
        members_removed=role.user_set.count(),
    )
    role.delete()
    role_rights_changed()


def _has_object_grants(content_type: ContentType) -> bool:
    model = content_type.model_class()
    try:
        return model is not None and bool(perm_models(model))
    except ImproperlyConfigured:
        return False


def _default_role_permissions() -> dict[str, list[Permission]]:
    catalog = list(permission_catalog())
    # User-facing models are the ones whose rows carry object grants: items, tags,
    # projects, and private ones such as conversations (which have no `share`).
    content_types = {p.content_type_id: p.content_type for p in catalog}
    user_facing = {pk for pk, ct in content_types.items() if _has_object_grants(ct)}

    def on_user_facing(actions: tuple[str, ...]) -> list[Permission]:
        return [
            p
            for p in catalog
            if p.content_type_id in user_facing and p.codename.split("_", 1)[0] in actions
        ]

    return {
        "admin": catalog,
        "member": on_user_facing(MEMBER_ACTIONS),
        "viewer": on_user_facing(VIEWER_ACTIONS),
    }


DEFAULT_DESCRIPTIONS = {
    "admin": "Every permission of Launch's apps.",
    "member": "Create, view, change, delete and share the user-facing resources.",
    "viewer": "View the user-facing resources.",
}


@transaction.atomic
def roles_ensure_defaults() -> list[Group]:
    """Create the `admin`, `member` and `viewer` roles if missing and add any default
    permission they lack (idempotent). It never removes a permission, so a new app's
    permissions reach existing roles on the next run; the defaults are a floor, and a
    permission staff took from a default role comes back (give the users another role
    instead of trimming a default one).

    Side effects: Group, RoleProfile and group-permission rows; an activity entry for
    each role whose permissions it changed.
    """
    roles = []
    for name, permissions in _default_role_permissions().items():
        role, _ = Group.objects.get_or_create(name=name)
        RoleProfile.objects.get_or_create(
            role=role, defaults={"description": DEFAULT_DESCRIPTIONS[name]}
        )
        held = role_permissions(role)
        missing = [p for p in permissions if codename_of(p) not in held]
        if missing:
            _set_permissions(actor=None, role=role, permissions=[*role.permissions.all(), *missing])
        roles.append(role)
    return roles
