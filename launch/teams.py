"""The current team (issue 13, docs/teams.md): which team a request works in.

Every object lives in one team, and every read and write of the API is confined to the
current team: the `X-Team-ID` header when the request sends it, else the user's default
team (its personal team, unless it chose another). The resolution reads the user's
memberships from its cached rights (`launch.rights_cache`), so it costs no query on a
warm cache; a superuser may name any team (one query).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from launch.errors import NotFound
from launch.rights_cache import forget, rights_of, user_rights_changed

if TYPE_CHECKING:
    from apps.users.models import User

TEAM_HEADER = "X-Team-ID"


@dataclass(frozen=True)
class CurrentTeam:
    """The team a request works in, and what the user's team role carries there
    (`app_label.codename` strings; everything assignable for a superuser)."""

    pk: uuid.UUID
    permissions: frozenset[str]
    is_superuser: bool = False

    def has_perm(self, perm: str) -> bool:
        return self.is_superuser or perm in self.permissions


def _parse(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw.strip())
    except (ValueError, AttributeError):
        raise NotFound() from None


def default_team_id(user: User) -> uuid.UUID:
    """The user's default team, its personal team made first when it has none (an
    account created by `createsuperuser` or a fixture)."""
    found = rights_of(user).default_team
    if found is None:
        from apps.teams.services import team_ensure_personal  # apps build on launch

        team_ensure_personal(user=user)
        user_rights_changed([user.pk])
        forget(user)
        found = rights_of(user).default_team
        if found is None:  # a personal team without a default membership: make it one
            from apps.teams.services.teams import restore_default

            restore_default(user)
            user_rights_changed([user.pk])
            forget(user)
            found = rights_of(user).default_team
    if found is None:
        raise NotFound()
    return uuid.UUID(found)


def current_team(user: User, requested: str | None) -> CurrentTeam:
    """The team `user` works in: `requested` (the header's value) when given, else its
    default team. A malformed id, an unknown team, or a team `user` is not a member of
    are one and the same 404, which names nothing."""
    pk = default_team_id(user) if requested is None else _parse(requested)
    held = rights_of(user).teams.get(str(pk))
    if user.is_superuser:
        from apps.teams.roles import assignable_codenames

        if held is None:
            from apps.teams.models import Team

            if not Team.objects.filter(pk=pk).exists():
                raise NotFound()
        return CurrentTeam(pk=pk, permissions=assignable_codenames(), is_superuser=True)
    if held is None:
        raise NotFound()
    return CurrentTeam(pk=pk, permissions=held)


def team_of(obj: Any) -> Any:
    """The team id of a row of a model with a team."""
    return obj.team_id


def team_id_for(user: User, team: Any) -> uuid.UUID:
    """The id of `team` as services receive it (a `Team`, the request's `CurrentTeam`, an
    id), or, for None, `user`'s default team: what commands, the admin and tests that
    name no team work in."""
    if team is None:
        return default_team_id(user)
    pk = getattr(team, "pk", team)
    return pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))
