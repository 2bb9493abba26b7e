"""What each team role may do: permission sets, as `app_label.codename` strings.

A team role carries two kinds of rights, both confined to its team:

- over the team itself: `teams.view_team`, `teams.change_team` (name, slug),
  `teams.manage_members`, `teams.invite_members`, `teams.manage_roles`,
  `teams.view_activity` (the team's activity log), `teams.manage_api_keys` (team keys);
- over the team's objects (phase 2, docs/teams.md): the same model permissions the
  global roles use (`items.change_item`, ...), on the models that carry object grants.

Ownership is the `owner` role itself, not a permission: only owners delete the team,
and only owners give or take the owner role.

The default roles' sets are computed here, from the installed models, so a new app's
permissions reach every team without a data migration; custom roles store theirs.
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth.models import Permission
from django.db.models import Q, QuerySet

from apps.rbac.services import MEMBER_ACTIONS, VIEWER_ACTIONS
from apps.teams.models import ADMIN, GUEST, MEMBER, OWNER, VIEWER, TeamRole
from launch.permissions import grant_models

VIEW_TEAM = "teams.view_team"
CHANGE_TEAM = "teams.change_team"
MANAGE_MEMBERS = "teams.manage_members"
INVITE_MEMBERS = "teams.invite_members"
MANAGE_ROLES = "teams.manage_roles"
VIEW_ACTIVITY = "teams.view_activity"
MANAGE_API_KEYS = "teams.manage_api_keys"
TEAM_PERMISSIONS = (
    VIEW_TEAM,
    CHANGE_TEAM,
    MANAGE_MEMBERS,
    INVITE_MEMBERS,
    MANAGE_ROLES,
    VIEW_ACTIVITY,
    MANAGE_API_KEYS,
)

DEFAULT_ROLE_NAMES = {
    OWNER: "Owner",
    ADMIN: "Admin",
    MEMBER: "Member",
    VIEWER: "Viewer",
    GUEST: "Guest",
}
DEFAULT_ROLE_DESCRIPTIONS = {
    OWNER: "Everything, including deleting the team and naming other owners.",
    ADMIN: "Manage the team, its members, roles and invitations, and work on its objects.",
    MEMBER: "Create, view, change, delete and share the team's objects.",
    VIEWER: "View the team's objects.",
    GUEST: "See only what is shared with you (an outside collaborator).",
}


@cache
def object_permissions(actions: tuple[str, ...]) -> frozenset[str]:
    """`actions` on every model that carries object grants, where the model has them
    (conversations have no `share`)."""
    found = set()
    for model, _user_grants, _role_grants in grant_models():
        opts = model._meta
        available = {f"{action}_{opts.model_name}" for action in opts.default_permissions}
        available |= {codename for codename, _name in opts.permissions}
        for action in actions:
            if (codename := f"{action}_{opts.model_name}") in available:
                found.add(f"{opts.app_label}.{codename}")
    return frozenset(found)


@cache
def default_role_permissions(key: str) -> frozenset[str]:
    if key in (OWNER, ADMIN):
        return frozenset(TEAM_PERMISSIONS) | object_permissions(MEMBER_ACTIONS)
    if key == MEMBER:
        return frozenset({VIEW_TEAM}) | object_permissions(MEMBER_ACTIONS)
    if key == VIEWER:
        return frozenset({VIEW_TEAM}) | object_permissions(VIEWER_ACTIONS)
    if key == GUEST:
        # No object permission: a guest sees and does only what is shared with it.
        return frozenset({VIEW_TEAM})
    raise ValueError(f"Not a default team role: {key!r}")


def assignable_codenames() -> frozenset[str]:
    """Everything a team role may hold (the owner's set)."""
    return default_role_permissions(OWNER)


def team_permission_catalog() -> QuerySet[Permission]:
    """The Permission rows a custom team role may hold, ordered like the global catalog."""
    scope = Q(pk__in=[])
    for codename in assignable_codenames():
        app_label, _, name = codename.partition(".")
        scope |= Q(content_type__app_label=app_label, codename=name)
    return (
        Permission.objects.filter(scope)
        .select_related("content_type")
        .order_by("content_type__app_label", "content_type__model", "codename")
    )


def role_permission_codenames(role: TeamRole) -> frozenset[str]:
    """The role's rights: none read for a default role; a custom role's from a
    `permissions__content_type` prefetch when there is one, else one query."""
    if role.key:
        return default_role_permissions(role.key)
    prefetched = getattr(role, "_prefetched_objects_cache", {}).get("permissions")
    if prefetched is not None:
        return frozenset(f"{p.content_type.app_label}.{p.codename}" for p in prefetched)
    rows = role.permissions.values_list("content_type__app_label", "codename")
    return frozenset(f"{app_label}.{codename}" for app_label, codename in rows)
