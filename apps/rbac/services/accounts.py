"""The rights a user holds directly: staff and superuser flags, and its own permissions.

Only superusers (or the system) change them, in the API and in the admin; each change is
recorded on the user with before and after.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Permission
from django.db import transaction

from apps.operations.activity import record_rights_change
from apps.rbac.rights import require_superuser
from apps.rbac.selectors import codename_of
from apps.users.models import User
from launch.permissions import forget_roles
from launch.rights_cache import user_rights_changed

FLAGS = ("is_superuser", "is_staff")


@transaction.atomic
def user_set_flags(
    *,
    actor: User | None,
    user: User,
    is_superuser: bool | None = None,
    is_staff: bool | None = None,
) -> User:
    """Set `user`'s superuser and staff flags (None leaves one alone); superusers only.

    Setting a flag to the value it has is not a change and needs no right. Side effects:
    the two columns (written alone, so a caller's other unsaved edits stay unsaved); an
    activity entry when a flag changed."""
    wanted = {"is_superuser": is_superuser, "is_staff": is_staff}
    if is_superuser is None and is_staff is None:
        return user
    stored = User.objects.filter(pk=user.pk).values(*FLAGS).get()
    changes = {
        flag: (stored[flag], value)
        for flag, value in wanted.items()
        if value is not None and value != stored[flag]
    }
    if not changes:
        return user
    require_superuser(actor, "make users staff or superusers")
    User.objects.filter(pk=user.pk).update(**{flag: new for flag, (_, new) in changes.items()})
    for flag, (_, new) in changes.items():
        setattr(user, flag, new)
    forget_roles(user)
    user_rights_changed([user.pk])
    record_rights_change(actor=actor, target=user, kind="flags", changes=changes)
    return user


@transaction.atomic
def user_set_permissions(
    *, actor: User | None, user: User, permissions: Iterable[Permission]
) -> User:
    """Replace the permissions `user` holds directly (outside its roles); superusers only.
    Side effects: the permission links; an activity entry when they changed."""
    wanted = list(permissions)
    before = sorted(codename_of(p) for p in user.user_permissions.select_related("content_type"))
    after = sorted(codename_of(p) for p in wanted)
    if before == after:
        return user
    require_superuser(actor, "give users permissions of their own")
    user.user_permissions.set(wanted)
    forget_roles(user)
    user_rights_changed([user.pk])
    record_rights_change(
        actor=actor,
        target=user,
        kind="user_permissions",
        changes={"user_permissions": (before, after)},
    )
    return user
