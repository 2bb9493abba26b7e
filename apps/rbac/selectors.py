"""Reads of the permission catalog and of roles."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db.models import Count, Q, QuerySet

from apps.users.models import User


def permission_catalog() -> QuerySet[Permission]:
    """Permissions of Launch's apps (`settings.LAUNCH_PERMISSION_APPS`), not Django's
    internals (sessions, content types, admin log)."""
    scope = Q(pk__in=[])
    for entry in settings.LAUNCH_PERMISSION_APPS:
        app_label, _, model = entry.partition(".")
        term = Q(content_type__app_label=app_label)
        if model:
            term &= Q(content_type__model=model)
        scope |= term
    return (
        Permission.objects.filter(scope)
        .select_related("content_type")
        .order_by("content_type__app_label", "content_type__model", "codename")
    )


def codename_of(permission: Permission) -> str:
    return f"{permission.content_type.app_label}.{permission.codename}"


def role_list() -> QuerySet[Group]:
    """Roles with their description, permissions and member count (three queries)."""
    return (
        Group.objects.select_related("profile")
        .prefetch_related("permissions__content_type")
        .annotate(user_count=Count("user", distinct=True))
        .order_by("name")
    )


def user_permission_codenames(user: User) -> list[str]:
    """What `user` may do at the model layer: its roles' permissions (everything in the
    catalog for a superuser), as sorted `app_label.codename` strings."""
    if not user.is_active:
        return []
    if user.is_superuser:
        return [codename_of(p) for p in permission_catalog()]
    return sorted(user.get_all_permissions())
