"""Promise 2 as a property: for random users, roles, rows, shares and revocations, what
each user can list, fetch and search equals what a plain model of the grants says.

The world is built through the services (as the API would build it) inside a savepoint
that is rolled back after each example; the reads go through the API. The reference
model knows only this: superusers see everything; a user without a role may use no
endpoint (403); anyone else sees the rows they own plus those shared, with any action,
to them or to their role (every action implies `view`), the last share winning.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from apps.users.models import User
from launch.permissions import OBJECT_ACTIONS, share_with_role, share_with_user
from tests.conftest import PASSWORD
from tests.factories import Lab, create_item, roles
from tests.projects.conftest import create_project, ingest
from tests.support.reliability import record

__all__ = ["roles"]

pytestmark = [pytest.mark.promise(2), pytest.mark.django_db]

KINDS = ("none", "viewer", "member", "superuser")
SHARED_ROLES = ("viewer", "member")
# Every processed document holds this word (tests/projects/conftest.TEXT), so a keyword
# search for it reaches every document in scope.
WORD = "lighthouse"
_seq = itertools.count()


@dataclass(frozen=True)
class Share:
    kind: str  # "item" or "project"
    row: int  # index into that kind's rows, modulo their number
    to_user: int | None  # a user index, or None for a role
    role: str
    actions: frozenset[str]  # empty: revoke


@dataclass
class World:
    users: list[str]  # each user's kind
    items: list[int]  # each item's owner
    projects: list[int]  # each project's owner
    shares: list[Share] = field(default_factory=list)


shares = st.builds(
    Share,
    kind=st.sampled_from(("item", "project")),
    row=st.integers(0, 7),
    to_user=st.none() | st.integers(0, 4),
    role=st.sampled_from(SHARED_ROLES),
    actions=st.frozensets(st.sampled_from(OBJECT_ACTIONS)),
)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    users = draw(st.lists(st.sampled_from(KINDS), min_size=3, max_size=5))
    owner = st.integers(0, len(users) - 1)
    return World(
        users=users,
        items=draw(st.lists(owner, max_size=6)),
        projects=draw(st.lists(owner, max_size=3)),
        shares=draw(st.lists(shares, max_size=12)),
    )


def owners(world: World, kind: str) -> list[int]:
    return world.items if kind == "item" else world.projects


def effective_shares(world: World) -> list[Share]:
    """The shares the API would accept: on an existing row, to an existing non-owner."""
    kept = []
    for drawn in world.shares:
        rows = owners(world, drawn.kind)
        if not rows:
            continue
        row = drawn.row % len(rows)
        to_user = drawn.to_user
        if to_user is not None and (to_user >= len(world.users) or to_user == rows[row]):
            continue
        kept.append(Share(drawn.kind, row, to_user, drawn.role, drawn.actions))
    return kept


def expected_visible(world: World, user: int, kind: str) -> set[int]:
    """The reference model: which rows of `kind` user `user` may view."""
    if world.users[user] == "superuser":
        return set(range(len(owners(world, kind))))
    grants: dict[tuple[int, Any], frozenset[str]] = {}
    for share in effective_shares(world):
        if share.kind == kind:
            principal = ("user", share.to_user) if share.to_user is not None else share.role
            grants[(share.row, principal)] = share.actions
    return {
        row
        for row, owner in enumerate(owners(world, kind))
        if owner == user
        or grants.get((row, ("user", user)))
        or grants.get((row, world.users[user]))
    }


def build(world: World, roles: dict[str, Group]) -> tuple[list[User], list[Any], list[Any]]:
    users = []
    # One team whose role adds nothing to the grants: this property is about grants and
    # global roles (teams: tests/teams/test_property_teams.py).
    lab = Lab()
    for kind in world.users:
        email = f"iso{next(_seq)}@example.com"
        if kind == "superuser":
            users.append(lab.join(User.objects.create_superuser(email=email, password=PASSWORD)))
            continue
        user = User.objects.create_user(email=email, password=PASSWORD)
        user.groups.set([roles[kind]] if kind in roles else [])
        users.append(lab.join(user))
    items = [create_item(owner=users[owner]) for owner in world.items]
    projects = [create_project(owner=users[owner]) for owner in world.projects]
    for project in projects:
        ingest(project=project)
    rows: dict[str, list[Any]] = {"item": items, "project": projects}
    for share in effective_shares(world):
        row = rows[share.kind][share.row]
        if share.to_user is not None:
            share_with_user(row, users[share.to_user], share.actions)
        else:
            share_with_role(row, roles[share.role], share.actions)
    return users, items, projects


def ids(response: Any) -> set[str]:
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["data"])
    return {row["id"] for row in body["data"]}


def observe(client: APIClient, items: list[Any], projects: list[Any]) -> dict[str, Any]:
    """What one user sees: its lists, every item by id, and a search over every project."""
    listed = client.get("/api/v1/items/", {"limit": 1000})
    if listed.status_code == 403:
        statuses = {client.get(f"/api/v1/items/{item.pk}").status_code for item in items}
        searched = client.post("/api/v1/search", {"query": WORD, "k": 50, "mode": "keyword"})
        return {
            "refused": (statuses | {client.get("/api/v1/projects").status_code})
            | {searched.status_code},
        }
    fetched = {
        str(item.pk) for item in items if client.get(f"/api/v1/items/{item.pk}").status_code == 200
    }
    missing = {
        client.get(f"/api/v1/items/{item.pk}").status_code
        for item in items
        if str(item.pk) not in fetched
    }
    assert missing <= {404}, missing  # a row you cannot view is absent, not forbidden
    searched = client.post("/api/v1/search", {"query": WORD, "k": 50, "mode": "keyword"})
    assert searched.status_code == 200, searched.content
    return {
        "items": ids(listed),
        "fetched": fetched,
        "projects": ids(client.get("/api/v1/projects", {"limit": 1000})),
        "searched": {hit["project_id"] for hit in searched.json()["data"]},
    }


@settings(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=bool(os.environ.get("CI")),  # reproducible in CI, exploring elsewhere
    # The `db` fixture's transaction is shared on purpose: each example rolls back its own
    # savepoint, so no example sees another's rows.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_reads_match_the_grant_model(roles, world):
    checked = 0
    with transaction.atomic():
        users, items, projects = build(world, roles)
        for index, user in enumerate(users):
            client = APIClient()
            client.force_authenticate(user)
            seen = observe(client, items, projects)
            if world.users[index] == "none":
                assert seen == {"refused": {403}}
                checked += 1
                continue
            want_items = {str(items[i].pk) for i in expected_visible(world, index, "item")}
            want_projects = {str(projects[i].pk) for i in expected_visible(world, index, "project")}
            assert seen == {
                "items": want_items,
                "fetched": want_items,
                "projects": want_projects,
                "searched": want_projects,
            }, f"user {index} ({world.users[index]})"
            checked += 4
        transaction.set_rollback(True)
    record("isolation cases checked", checked)
