"""Role writes: the API, the admin and `bootstrap` all come through here.

A role is a Django `Group`; its description lives in `RoleProfile`. The default role is
the one `settings.DEFAULT_ROLE` names: new users get it, and it cannot be deleted or
renamed (409) while the setting points at it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, transaction

from apps.rbac.models import RoleProfile
from apps.rbac.selectors import codename_of, permission_catalog
from apps.users.models import User
from launch.api.exceptions import Conflict
from launch.permissions import forget_roles, perm_models

DUPLICATE_ROLE = "A role with this name already exists."
DEFAULT_ROLE_FIXED = "The default role cannot be deleted or renamed."

# Model actions a member holds on every model that can be shared (the user-facing ones).
MEMBER_ACTIONS = ("add", "view", "change", "delete", "share")
VIEWER_ACTIONS = ("view",)


def is_default(role: Group) -> bool:
    return role.name == settings.DEFAULT_ROLE


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


@transaction.atomic
def role_create(*, name: str, description: str = "", permissions: Iterable[str] = ()) -> Group:
    """Create a role. Side effects: a Group, its RoleProfile and permission links."""
    granted = permissions_from_codenames(permissions)
    if Group.objects.filter(name=name).exists():
        raise Conflict(DUPLICATE_ROLE)
    role = Group(name=name)
    _save_group(role)
    RoleProfile.objects.create(role=role, description=description)
    role.permissions.set(granted)
    return role


@transaction.atomic
def role_update(
    *,
    role: Group,
    name: str | None = None,
    description: str | None = None,
    permissions: Iterable[str] | None = None,
) -> Group:
    """Change the given fields of `role`; `permissions` replaces its set."""
    if name is not None and name != role.name:
        if is_default(role):
            raise Conflict(DEFAULT_ROLE_FIXED)
        if Group.objects.filter(name=name).exclude(pk=role.pk).exists():
            raise Conflict(DUPLICATE_ROLE)
        role.name = name
        _save_group(role)
    if description is not None:
        RoleProfile.objects.update_or_create(role=role, defaults={"description": description})
    if permissions is not None:
        role.permissions.set(permissions_from_codenames(permissions))
    return role


@transaction.atomic
def role_delete(*, role: Group) -> None:
    """Delete a role. Side effects: its members lose it; its object grants cascade."""
    if is_default(role):
        raise Conflict(DEFAULT_ROLE_FIXED)
    role.delete()


@transaction.atomic
def role_add_member(*, role: Group, user: User) -> None:
    """Give `user` the role (idempotent)."""
    user.groups.add(role)
    forget_roles(user)


@transaction.atomic
def role_remove_member(*, role: Group, user: User) -> bool:
    """Take the role from `user`. Returns whether the user held it."""
    held = user.groups.filter(pk=role.pk).exists()
    user.groups.remove(role)
    forget_roles(user)
    return held


@transaction.atomic
def user_set_roles(*, user: User, roles: Iterable[Group]) -> None:
    """Replace `user`'s roles with exactly `roles`."""
    user.groups.set(list(roles))
    forget_roles(user)


@transaction.atomic
def role_assign_default(*, user: User) -> Group | None:
    """Give a new user the default role, creating the default roles first if needed.
    Returns the role, or None when `DEFAULT_ROLE` is empty (no role for new users)."""
    if not settings.DEFAULT_ROLE:
        return None
    role = Group.objects.filter(name=settings.DEFAULT_ROLE).first()
    if role is None:
        roles_ensure_defaults()
        role = Group.objects.get(name=settings.DEFAULT_ROLE)
    user.groups.add(role)
    forget_roles(user)
    return role


def user_role_names(user: User) -> list[str]:
    """Names of `user`'s roles, sorted; uses a `groups` prefetch when there is one."""
    return sorted(group.name for group in user.groups.all())


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

    Side effects: Group, RoleProfile and group-permission rows.
    """
    roles = []
    for name, permissions in _default_role_permissions().items():
        role, _ = Group.objects.get_or_create(name=name)
        RoleProfile.objects.get_or_create(
            role=role, defaults={"description": DEFAULT_DESCRIPTIONS[name]}
        )
        role.permissions.add(*permissions)
        roles.append(role)
    return roles
