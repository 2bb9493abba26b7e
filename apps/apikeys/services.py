"""API key writes: create, revoke, and the bookkeeping of a key's use.

Every create, revoke and use from a new address writes one activity entry (auditlog's
LogEntry) naming the key by its prefix, and a team key's team. Neither the key nor its
hash ever reaches an entry, a log line or an exception message.

A team key (`apikey_create(team=...)`) needs `teams.manage_api_keys` in that team, and
its scopes are the creator's both ways: model permissions it holds (as a personal key's)
and, for those a team role can carry, ones its role in that team holds. It stops working
when the creator leaves the team or loses `manage_api_keys` (`team_key_usable`).
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from typing import Any

from auditlog.models import LogEntry
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from apps.apikeys.keys import NewKey, new_key
from apps.apikeys.models import ApiKey
from apps.rbac.rights import require_holds_permissions
from apps.rbac.selectors import codename_of, permission_catalog
from apps.teams.models import Team
from apps.teams.roles import MANAGE_API_KEYS, assignable_codenames
from apps.teams.services import access as team_access
from apps.users.models import User
from launch.errors import Conflict, NotFound


def _record(
    key: ApiKey,
    *,
    actor: User | None,
    action: int,
    event: str,
    changes: dict[str, list[Any]],
    remote_addr: str | None = None,
) -> None:
    extra: dict[str, Any] = {}
    if remote_addr is not None:
        extra["remote_addr"] = remote_addr
    LogEntry.objects.log_create(
        key,
        force_log=True,
        action=action,
        changes=changes,
        actor=actor,
        actor_email=getattr(actor, "email", None),
        # `rights`: a key's scopes are rights handed to a credential (the activity
        # log's rights filter finds them); the key is named by its prefix only.
        additional_data={
            "rights": "api_key",
            "api_key": key.prefix,
            "event": event,
            **({"team": str(key.team_id)} if key.team_id else {}),
        },
        **extra,
    )


def _validated_scopes(user: User, scopes: list[str], team: Team | None = None) -> list[str]:
    wanted = sorted(set(scopes))
    catalog = {codename_of(p) for p in permission_catalog()}
    if unknown := [scope for scope in wanted if scope not in catalog]:
        raise ValidationError({"scopes": f"Unknown permissions: {', '.join(unknown[:5])}."})
    require_holds_permissions(user, wanted, "give a key these scopes")
    if team is not None:
        team_scopes = frozenset(wanted) & assignable_codenames()
        team_access.require_holds_permissions(
            user, team, team_scopes, "give this team's key these scopes"
        )
    return wanted


def team_key_usable(key: ApiKey) -> bool:
    """Whether a team key's creator still may hold it: a member of the key's team whose
    role there carries `teams.manage_api_keys` (superusers: always). True for a personal
    key. One query (two for a custom role)."""
    team = key.team
    if team is None:
        return True
    return MANAGE_API_KEYS in team_access.actor_team_permissions(key.user, team)


@transaction.atomic
def apikey_create(
    *,
    user: User,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
    team: Team | None = None,
) -> tuple[ApiKey, str]:
    """Create a key for `user` (for `team` when given), limited to `scopes` (each one
    `user` holds now, in the team too for a team key: 403 otherwise; unknown ones are a
    422). A team key needs `teams.manage_api_keys` in the team (403). Returns the key and
    its raw string, which is never stored and cannot be shown again.

    At most API_KEY_MAX_PER_USER active personal keys per user, and as many team keys
    per team (409).

    Side effects: one ApiKey row, one activity entry (with the team for a team key).
    """
    if team is not None:
        team_access.require_team_permission(
            user, team, MANAGE_API_KEYS, "create the team's API keys"
        )
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    wanted = _validated_scopes(user, scopes, team)
    # Lock the owning row (the user's, or the team's) so that two concurrent creates
    # cannot both pass the count.
    if team is None:
        User.objects.select_for_update().filter(pk=user.pk).first()
        active = ApiKey.objects.filter(user=user, team__isnull=True)
        whose = "You already have"
    else:
        Team.objects.select_for_update().filter(pk=team.pk).first()
        active = ApiKey.objects.filter(team=team)
        whose = "This team already has"
    active = active.filter(revoked_at__isnull=True)
    active = active.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
    if active.count() >= settings.API_KEY_MAX_PER_USER:
        raise Conflict(f"{whose} {settings.API_KEY_MAX_PER_USER} active keys; revoke one first.")
    made: NewKey = new_key()
    key = ApiKey(
        user=user,
        team=team,
        name=name,
        scopes=wanted,
        expires_at=expires_at,
        prefix=made.prefix,
        secret_hash=made.hashed,
    )
    key.full_clean(exclude=["secret_hash", "prefix"])
    key.save()
    _record(
        key,
        actor=user,
        action=LogEntry.Action.CREATE,
        event="created",
        changes={
            "name": [None, name],
            "prefix": [None, key.prefix],
            "scopes": [None, ", ".join(wanted)],
            "expires_at": [None, expires_at.isoformat() if expires_at else None],
        },
    )
    return key, made.raw


@transaction.atomic
def team_apikey_revoke(*, actor: User, team: Team, key: ApiKey) -> ApiKey:
    """Revoke one of `team`'s keys (anyone's): needs `teams.manage_api_keys` there (403).
    Side effects: see `apikey_revoke`."""
    team_access.require_team_permission(actor, team, MANAGE_API_KEYS, "revoke the team's keys")
    if key.team_id != team.pk:
        raise NotFound()
    return apikey_revoke(key=key, actor=actor)


@transaction.atomic
def apikey_revoke(*, key: ApiKey, actor: User | None) -> ApiKey:
    """Revoke `key` at once: the next request made with it is refused (nothing caches a
    valid key). Revoking a revoked key changes nothing.

    Side effects: sets `revoked_at`; one activity entry (none if already revoked).
    """
    now = timezone.now()
    if not ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=now):
        key.refresh_from_db(fields=["revoked_at"])
        return key
    key.revoked_at = now
    _record(
        key,
        actor=actor,
        action=LogEntry.Action.UPDATE,
        event="revoked",
        changes={"revoked_at": [None, now.isoformat()]},
    )
    return key


def _address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def apikey_record_use(*, key: ApiKey, address: str | None, now: datetime | None = None) -> None:
    """Note that `key` was used from `address`, writing as little as possible.

    - From an address not among the key's recent ones: one UPDATE (conditional on the
      address still being new, so concurrent requests log it once) and one activity entry.
    - Else, only when `last_used_at` is older than API_KEY_LAST_USED_INTERVAL_SECONDS:
      one UPDATE whose WHERE repeats that condition (concurrent requests write once).
    - Else nothing: most requests write no row at all.

    Side effects: the above, on the key's row and the activity log.
    """
    now = now or timezone.now()
    ip = _address(address)
    rows = ApiKey.objects.filter(pk=key.pk)
    if ip is not None and ip not in key.seen_addresses:
        keep = max(1, settings.API_KEY_SEEN_ADDRESSES)
        seen = [*key.seen_addresses, ip][-keep:]
        # A concurrent first use from another new address may overwrite this list (each
        # compares with what it read); the loser is logged again on its next use. Rare
        # and harmless, so no lock on a path every request takes.
        # Both or neither: an address marked seen is always in the activity log.
        with transaction.atomic():
            written = rows.exclude(seen_addresses__contains=[ip]).update(
                seen_addresses=seen, last_used_at=now, last_used_ip=ip
            )
            if written:
                _record(
                    key,
                    actor=key.user,
                    action=LogEntry.Action.ACCESS,
                    event="new_address",
                    changes={"address": [None, ip]},
                    remote_addr=ip,
                )
        key.seen_addresses, key.last_used_at, key.last_used_ip = seen, now, ip
        return
    stale_before = now - timedelta(seconds=settings.API_KEY_LAST_USED_INTERVAL_SECONDS)
    if key.last_used_at is not None and key.last_used_at >= stale_before:
        return
    rows.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale_before)).update(
        last_used_at=now, last_used_ip=ip
    )
    key.last_used_at, key.last_used_ip = now, ip
