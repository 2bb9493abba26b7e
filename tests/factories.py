"""Builders and fixtures for permission-protected rows and role holders.

Builders create through the services, so every row comes with its owner's grants, as
in production. Import the fixtures into a test package's conftest to use them.

Plain keyword functions rather than factory_boy: a factory_boy factory saves through
the ORM and would need its create step overridden, model by model, to call the service
this module calls directly; and sequence-numbered names keep every run the same, where
Faker's would not. So neither is a dependency.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission

from apps.items.models import Item
from apps.items.services import item_create
from apps.rbac.services import roles_ensure_defaults, user_set_roles
from apps.tags.models import Tag
from apps.tags.services import tag_create
from apps.teams.models import Membership, Team, TeamRole
from apps.teams.roles import VIEW_TEAM, object_permissions
from apps.users.models import User
from launch.permissions import share_with_user
from launch.rights_cache import forget

_seq = itertools.count()


def join_team(user: User, team_id: Any, *, role: str = "guest", default: bool = False) -> None:
    """Make `user` a member of team `team_id` with the default team role `role` (no
    check: a fixture, as an invitation accepted would); `default=True` also makes it the
    team `user` works in without `X-Team-ID`."""
    membership = Membership.objects.filter(user=user, team_id=team_id).first()
    if membership is None:
        membership = Membership(user=user, team_id=team_id)
    membership.role = TeamRole.objects.get(team_id=team_id, key=role)
    membership.save()
    if default and not membership.is_default:
        for other in Membership.objects.filter(user=user, is_default=True):
            other.is_default = False
            other.save()
        membership.is_default = True
        membership.save()
    forget(user)


def share_in_team(
    obj: Any,
    user: User,
    actions: Iterable[str],
    *,
    default: bool = True,
    role: str = "guest",
    **extra: Any,
) -> set[str]:
    """Share `obj` with `user` (the unchecked primitive), after making `user` a guest of
    `obj`'s team (sharing stays inside a team, docs/teams.md), which becomes its default
    team unless `default=False`, so a client without `X-Team-ID` sees the share."""
    if not Membership.objects.filter(user=user, team_id=obj.team_id).exists():
        join_team(user, obj.team_id, role=role, default=default)
    elif default:
        join_team(
            user,
            obj.team_id,
            role=Membership.objects.get(user=user, team_id=obj.team_id).role.key or "guest",
            default=True,
        )
    return share_with_user(obj, user, actions, **extra)


class Lab:
    """One shared team whose members hold a role carrying `add` on every object model and
    nothing else (`lab` fixture): rows are then visible through grants alone, as before
    teams, so the tests of global roles and sharing keep testing exactly that."""

    def __init__(self) -> None:
        self.team = Team.objects.create(name="Lab", slug=f"lab-{next(_seq)}")
        self.role = TeamRole.objects.create(team=self.team, name="Grants only")
        wanted = object_permissions(("add",)) | {VIEW_TEAM}
        self.role.permissions.set(
            [
                p
                for p in Permission.objects.select_related("content_type")
                if f"{p.content_type.app_label}.{p.codename}" in wanted
            ]
        )

    def join(self, user: User) -> User:
        Membership.objects.filter(user=user, is_default=True).update(is_default=False)
        Membership.objects.update_or_create(
            user=user, team=self.team, defaults={"role": self.role, "is_default": True}
        )
        forget(user)
        return user


@pytest.fixture
def lab(db: Any) -> Lab:
    return Lab()


def create_tag(*, created_by: User, name: str | None = None, color: str = "#112233") -> Tag:
    return tag_create(user=created_by, name=name or f"tag-{next(_seq)}", color=color)


def create_item(
    *,
    owner: User,
    title: str | None = None,
    description: str | None = "A thing",
    tags: Iterable[Tag] = (),
) -> Item:
    return item_create(
        user=owner,
        title=title or f"Item {next(_seq)}",
        description=description,
        tag_ids=[tag.pk for tag in tags],
    )


@pytest.fixture
def roles(db: Any) -> dict[str, Group]:
    """The default roles (`admin`, `member`, `viewer`), by name."""
    return {role.name: role for role in roles_ensure_defaults()}


@pytest.fixture
def make_member(make_user: Callable[..., User], roles: dict[str, Group]) -> Callable[..., User]:
    """`make_member(role="member")`: a user holding one default role (or none: `role=None`)."""

    def make(role: str | None = "member", **extra: Any) -> User:
        user = make_user(**extra)
        user_set_roles(actor=None, user=user, roles=[roles[role]] if role else [])
        return user

    return make


@pytest.fixture
def member(make_member: Callable[..., User]) -> User:
    return make_member()


@pytest.fixture
def stranger(make_member: Callable[..., User]) -> User:
    """A member with no grant on anyone else's rows."""
    return make_member()


@pytest.fixture
def roleless(make_member: Callable[..., User]) -> User:
    """A user without any role: the model layer refuses it everything."""
    return make_member(role=None)
