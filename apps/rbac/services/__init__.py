"""Writes of rights: roles, role membership, object grants, and users' flags and own
permissions. Each takes the acting user and applies the no-escalation rule of
`apps.rbac.rights`; each change lands in the activity log."""

from apps.rbac.services.accounts import user_set_flags, user_set_permissions
from apps.rbac.services.members import (
    role_add_member,
    role_assign_default,
    role_remove_member,
    user_role_names,
    user_set_roles,
)
from apps.rbac.services.roles import (
    DEFAULT_DESCRIPTIONS,
    DEFAULT_ROLE_FIXED,
    DUPLICATE_ROLE,
    MEMBER_ACTIONS,
    VIEWER_ACTIONS,
    is_default,
    permissions_from_codenames,
    reserved_role_names,
    role_create,
    role_delete,
    role_update,
    roles_ensure_defaults,
)
from apps.rbac.services.shares import share_check, share_set

__all__ = [
    "DEFAULT_DESCRIPTIONS",
    "DEFAULT_ROLE_FIXED",
    "DUPLICATE_ROLE",
    "MEMBER_ACTIONS",
    "VIEWER_ACTIONS",
    "is_default",
    "permissions_from_codenames",
    "reserved_role_names",
    "role_add_member",
    "role_assign_default",
    "role_create",
    "role_delete",
    "role_remove_member",
    "role_update",
    "roles_ensure_defaults",
    "share_check",
    "share_set",
    "user_role_names",
    "user_set_flags",
    "user_set_permissions",
    "user_set_roles",
]
