"""Each user's model permissions and role ids, cached across requests (issue 12).

Every API request checks a model permission (`user.has_perm`) and most filter by the
user's roles: three queries before the view's own, for data that changes only when
rights change. They are read once, kept in Django's cache (Redis in production, so every
process shares one copy) and invalidated by the services that change rights
(`apps.rbac.services`), which are the only writers of roles, role membership, role
permissions, users' own permissions and flags.

Since teams (issue 13, docs/teams.md) an entry also holds the user's memberships: the
permissions its team role carries in each of its teams, and its default team, so the
current team is resolved without a query. `apps/teams` replaces a user's generation on
every write of its memberships and on every change of a custom team role it holds.

Invalidation is one cache write. An entry names the two generations it was computed
under:

- the user's generation (`rights:user:<id>`), replaced when that user's roles, own
  permissions or flags change (`user_rights_changed`);
- the roles' generation (`rights:roles`), replaced when any role's permissions change or a
  role is renamed or deleted (`role_rights_changed`, also on every save of a role),
  which concerns every member at once.

An entry whose generations are not the current ones is recomputed. Generations are
random tokens, not counters: a generation evicted from the cache comes back as a new
token, so an entry computed before the eviction can never match again.

The replacement happens at once and again when the transaction commits, so a request
that read the old rows between the two cannot leave them cached under the new
generation.

The user row that authentication loads (`is_active`, `is_superuser`, `token_version`...)
is cached the same way, under the user's generation (`user_for_token`): every save or
deletion of a user replaces it (signals connected in launch/apps.py), and so do the
writes that bypass `save()` (`user_revoke_tokens`, the flag changes of
`apps.rbac.services`). The password hash is not cached: its md5, which is what the
access token's revoke claim (`hash_password`) is compared with, stands in for it, and
the field is deferred on the cached user (read from the database if something asks).
So a warm authenticated request reads the user and its rights in one cache round trip
and no query. Object grants are never cached.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, transaction
from django.db.models import Q
from rest_framework_simplejwt.utils import get_md5_hash_password

if TYPE_CHECKING:
    from apps.users.models import User

logger = logging.getLogger(__name__)

ROLES_KEY = "rights:roles"
# Entries expire on their own too: a bound on memory, and on staleness should a
# generation write ever be lost (the cache unreachable at that moment).
TIMEOUT = 300
_ATTR = "_launch_rights"


@dataclass(frozen=True)
class Rights:
    """What a user holds outside object grants: model permissions as `app.codename`
    (its own and its roles'), the ids of its roles and their names (sorted), which the
    user's public representation shows, and its teams (issue 13): the permissions its
    team role carries in each team it belongs to (by team id, as a string), and its
    default team's id."""

    permissions: frozenset[str]
    group_ids: tuple[int, ...]
    role_names: tuple[str, ...] = ()
    teams: dict[str, frozenset[str]] = field(default_factory=dict)
    default_team: str | None = None


def _user_key(user_id: Any) -> str:
    return f"rights:user:{user_id}"


def _entry_key(user_id: Any) -> str:
    # v3: entries carry role names and the user's teams; an entry of an earlier shape is
    # never read back as this one.
    return f"rights:entry:v3:{user_id}"


def _row_key(user_id: Any) -> str:
    return f"rights:row:{user_id}"


def _token() -> str:
    return uuid.uuid4().hex


def _read(user: User) -> Rights:
    rows = (
        Permission.objects.filter(Q(user=user) | Q(group__user=user))
        .values_list("content_type__app_label", "codename")
        .distinct()
    )
    through = get_user_model().groups.through.objects
    roles = dict(through.filter(user_id=user.pk).values_list("group_id", "group__name"))
    teams, default_team = _read_teams(user)
    return Rights(
        permissions=frozenset(f"{app}.{codename}" for app, codename in rows),
        group_ids=tuple(sorted(roles)),
        role_names=tuple(sorted(roles.values())),
        teams=teams,
        default_team=default_team,
    )


def _read_teams(user: User) -> tuple[dict[str, frozenset[str]], str | None]:
    """The user's memberships: one query, and one more when it holds a custom team role
    (the default roles' permission sets are computed, not stored)."""
    from apps.teams.models import Membership  # launch's core must not import apps at load
    from apps.teams.roles import default_role_permissions

    rows = list(
        Membership.objects.filter(user_id=user.pk).values_list(
            "team_id", "is_default", "role_id", "role__key"
        )
    )
    custom: dict[Any, set[str]] = {role_id: set() for _t, _d, role_id, key in rows if not key}
    if custom:
        through = Membership._meta.get_field("role").related_model.permissions.through  # type: ignore[union-attr]
        for role_id, app, codename in through.objects.filter(teamrole_id__in=custom).values_list(
            "teamrole_id", "permission__content_type__app_label", "permission__codename"
        ):
            custom[role_id].add(f"{app}.{codename}")
    teams = {
        str(team_id): default_role_permissions(key) if key else frozenset(custom[role_id])
        for team_id, _default, role_id, key in rows
    }
    default = next((str(team_id) for team_id, is_default, _r, _k in rows if is_default), None)
    return teams, default


def _generation(key: str, found: dict[str, Any]) -> str:
    token = found.get(key)
    if token is None:
        # First use, expiry or eviction: a fresh token. `add` keeps whichever process
        # got there first, and every process then uses that one.
        cache.add(key, _token(), TIMEOUT)
        token = cache.get(key)
    return str(token)


def rights_of(user: User) -> Rights:
    """`user`'s rights: from the user object (once per request), else the cache (one
    round trip), else the database (two queries, then cached)."""
    held: Rights | None = user.__dict__.get(_ATTR)
    if held is not None:
        return held
    if not settings.RIGHTS_CACHE:  # no cache every process shares (settings)
        held = user.__dict__[_ATTR] = _read(user)
        return held
    keys = (_user_key(user.pk), ROLES_KEY, _entry_key(user.pk))
    try:
        found = cache.get_many(keys)
        generations = (_generation(keys[0], found), _generation(keys[1], found))
    except Exception:  # the cache is down: the database still answers
        logger.warning("rights cache unavailable", exc_info=True)
        held = _read(user)
    else:
        entry = found.get(keys[2])
        if entry is not None and entry[0] == generations:
            held = entry[1]
        else:
            held = _read(user)
            try:
                cache.set(keys[2], (generations, held), TIMEOUT)
            except Exception:
                logger.warning("rights cache unavailable", exc_info=True)
    assert held is not None
    user.__dict__[_ATTR] = held
    return held


def _row_fields() -> list[str]:
    """The user columns cached for authentication: every one but the password hash."""
    return [f.attname for f in get_user_model()._meta.concrete_fields if f.attname != "password"]


def _read_user(user_id: Any) -> tuple[User, str] | None:
    user = get_user_model().objects.filter(pk=user_id).first()
    if user is None:
        return None
    return user, get_md5_hash_password(user.password)


def user_for_token(user_id: Any) -> tuple[User, str] | None:
    """The user an access token names, with the md5 of its password hash (what the
    token's revoke claim is compared with), or None if there is no such user.

    From the cache when the user's generation is current: one round trip that also
    brings the user's rights (`rights_of` then asks nothing), no query. Else the
    database (one query), then cached under the generation read before it."""
    try:
        user_id = get_user_model()._meta.pk.to_python(user_id)
    except ValidationError:
        return None
    if not settings.RIGHTS_CACHE:
        return _read_user(user_id)
    keys = (_user_key(user_id), ROLES_KEY, _entry_key(user_id), _row_key(user_id))
    try:
        found = cache.get_many(keys)
        generations = (_generation(keys[0], found), _generation(keys[1], found))
    except Exception:  # the cache is down: the database still answers
        logger.warning("rights cache unavailable", exc_info=True)
        return _read_user(user_id)
    row = found.get(keys[3])
    if row is not None and row[0] == generations[0]:
        # By name: a column added since the row was cached is deferred (read if asked).
        names = [name for name in _row_fields() if name in row[1]]
        values = [row[1][name] for name in names]
        user = get_user_model().from_db(DEFAULT_DB_ALIAS, names, values)
        digest: str = row[2]
    else:
        read = _read_user(user_id)
        if read is None:
            return None
        user, digest = read
        columns = {name: getattr(user, name) for name in _row_fields()}
        try:
            cache.set(keys[3], (generations[0], columns, digest), TIMEOUT)
        except Exception:
            logger.warning("rights cache unavailable", exc_info=True)
    entry = found.get(keys[2])
    if entry is not None and entry[0] == generations:
        user.__dict__[_ATTR] = entry[1]
    return user, digest


def role_saved(sender: Any, **kwargs: Any) -> None:
    """Connected to the role model's `post_save` and `post_delete`: a renamed or deleted
    role changes its members' cached role names."""
    role_rights_changed()


def user_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Connected to the user model's `post_save` and `post_delete`: any change of a user
    row (flags, token version, password, email, deletion) makes its cached row and
    rights stale."""
    user_rights_changed([instance.pk])


def forget(user: Any) -> None:
    """Drop what this user object holds for the request (not the shared cache)."""
    for attr in (_ATTR, "_perm_cache", "_group_perm_cache", "_user_perm_cache"):
        user.__dict__.pop(attr, None)


def _replace(keys: list[str]) -> None:
    try:
        cache.set_many({key: _token() for key in keys}, TIMEOUT)
    except Exception:
        logger.warning("rights cache unavailable: generations not replaced", exc_info=True)


def _replace_now_and_on_commit(keys: list[str]) -> None:
    _replace(keys)
    transaction.on_commit(lambda: _replace(keys))


def user_rights_changed(user_ids: Iterable[Any]) -> None:
    """The roles, own permissions or flags of these users changed: their cached rights
    are stale from now on (and again from the commit)."""
    keys = [_user_key(pk) for pk in user_ids]
    if keys:
        _replace_now_and_on_commit(keys)


def role_rights_changed() -> None:
    """A role's permissions changed or a role was deleted: every cached entry is stale."""
    _replace_now_and_on_commit([ROLES_KEY])


class CachedModelBackend(ModelBackend):
    """Django's model backend, reading a user's permissions from `rights_of`.

    Superusers keep Django's path (every permission); `PermissionsMixin.has_perm` passes
    an active superuser before it asks any backend anyway."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return super().get_all_permissions(user_obj, obj)
        if not hasattr(user_obj, "_perm_cache"):
            user_obj._perm_cache = set(rights_of(user_obj).permissions)
        perms: set[str] = user_obj._perm_cache
        return perms
