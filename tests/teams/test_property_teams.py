"""Issue 13's property: random sequences over several teams, users in several teams,
invitations accepted, team roles changed, members removed, items created in a team and
shared inside it. After every step:

1. No read crosses a team: for every user and every team, the items list (rows and
   `count`) with that team's `X-Team-ID` is exactly the reference model's (the team's
   rows for a role carrying `view`, else its own and those shared with it in that
   team), and a team the user is not in is a 404.
2. No member gains a right its team role and grants do not give: every user's object
   actions on every item, in the item's team, equal the model's; in any other team,
   none.

Creating answers 201 exactly when the creator's team role carries `add`; sharing
answers 200 inside the team and 422 outside it. Driven through the API (bearer tokens)
and the team services; bounded (a few sequences of a few steps, from a fixed seed).
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.db import transaction
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from rest_framework.test import APIClient

from apps.items.models import Item
from apps.teams.models import Membership, Team
from apps.teams.services import invitation_accept, member_remove, member_set_role, team_create
from apps.users.models import User
from apps.users.services import user_create
from launch.errors import Conflict
from launch.permissions import OBJECT_ACTIONS, object_actions_of
from tests.conftest import PASSWORD, bearer
from tests.support.stateful import run_seeded
from tests.teams.conftest import invite, role_of

pytestmark = [pytest.mark.property, pytest.mark.django_db]

KEYS = ("owner", "admin", "member", "viewer", "guest")
CARRIES = {  # what each default team role carries on items
    "owner": set(OBJECT_ACTIONS) | {"add"},
    "admin": set(OBJECT_ACTIONS) | {"add"},
    "member": set(OBJECT_ACTIONS) | {"add"},
    "viewer": {"view"},
    "guest": set(),
}
USERS = 4
SHARED_TEAMS = 2
_seq = itertools.count()


class TeamMachine(RuleBasedStateMachine):
    totals: dict[str, int]

    def __init__(self) -> None:
        super().__init__()
        self.savepoint = transaction.savepoint()

    def teardown(self) -> None:
        transaction.savepoint_rollback(self.savepoint)
        self.totals["sequences"] += 1

    @initialize()
    def cast(self) -> None:
        self.users = [
            user_create(email=f"tp{next(_seq)}@example.com", password=PASSWORD)
            for _ in range(USERS)
        ]
        self.clients = {}
        for user in self.users:
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=bearer(user))
            self.clients[user.pk] = client
        self.teams = list(Team.objects.filter(owner__in=self.users))  # personal ones
        for index in range(SHARED_TEAMS):
            founder = self.users[index]
            self.teams.append(team_create(actor=founder, name=f"Shared {next(_seq)}"))
        # The model: (user, team) -> role key; item -> (team, owner); shares (item, user).
        self.roles = {
            (m.user_id, m.team_id): m.role.key
            for m in Membership.objects.filter(team__in=self.teams).select_related("role")
        }
        self.items: dict[Any, tuple[Any, Any]] = {}
        self.shares: set[tuple[Any, Any]] = set()

    def _get(self, user: User, url: str, team: Team) -> Any:
        return self.clients[user.pk].get(url, headers={"X-Team-ID": str(team.pk)})

    @rule(data=st.data(), key=st.sampled_from(KEYS[1:]))
    def invite_and_accept(self, data: st.DataObject, key: str) -> None:
        team = data.draw(st.sampled_from(self.teams[USERS:]), label="team")
        user = data.draw(st.sampled_from(self.users), label="user")
        if (user.pk, team.pk) in self.roles:
            return
        invitation_accept(user=user, token=invite(team, user.email, key))
        self.roles[(user.pk, team.pk)] = key
        self.totals["steps"] += 1

    @rule(data=st.data(), key=st.sampled_from(KEYS))
    def change_role(self, data: st.DataObject, key: str) -> None:
        held = sorted(pair for pair in self.roles if pair[1] in {t.pk for t in self.teams[USERS:]})
        if not held:
            return
        user_id, team_id = data.draw(st.sampled_from(held), label="membership")
        team = Team.objects.get(pk=team_id)
        membership = Membership.objects.get(user_id=user_id, team_id=team_id)
        try:
            member_set_role(actor=None, team=team, membership=membership, role=role_of(team, key))
        except Conflict:  # the last owner keeps the role
            return
        self.roles[(user_id, team_id)] = key
        self.totals["steps"] += 1

    @rule(data=st.data())
    def remove_member(self, data: st.DataObject) -> None:
        shared = {t.pk for t in self.teams[USERS:]}
        held = sorted(pair for pair in self.roles if pair[1] in shared)
        if not held:
            return
        user_id, team_id = data.draw(st.sampled_from(held), label="membership")
        team = Team.objects.get(pk=team_id)
        membership = Membership.objects.get(user_id=user_id, team_id=team_id)
        try:
            member_remove(actor=None, team=team, membership=membership)
        except Conflict:
            return
        del self.roles[(user_id, team_id)]
        self.totals["steps"] += 1

    @rule(data=st.data())
    def create_item(self, data: st.DataObject) -> None:
        user = data.draw(st.sampled_from(self.users), label="creator")
        team = data.draw(st.sampled_from(self.teams), label="team")
        response = self.clients[user.pk].post(
            "/api/v1/items/", {"title": "t"}, headers={"X-Team-ID": str(team.pk)}
        )
        key = self.roles.get((user.pk, team.pk))
        expected = 404 if key is None else 201 if "add" in CARRIES[key] else 403
        assert response.status_code == expected, (key, response.content)
        if response.status_code == 201:
            self.items[response.json()["id"]] = (team.pk, user.pk)
        self.totals["steps"] += 1

    @rule(data=st.data())
    def share_item(self, data: st.DataObject) -> None:
        if not self.items:
            return
        item_id = data.draw(st.sampled_from(sorted(self.items)), label="item")
        target = data.draw(st.sampled_from(self.users), label="target")
        team_id, owner_id = self.items[item_id]
        owner = next(u for u in self.users if u.pk == owner_id)
        response = self.clients[owner_id].put(
            f"/api/v1/items/{item_id}/shares",
            {"user_id": str(target.pk), "permissions": ["view"]},
            format="json",
            headers={"X-Team-ID": str(team_id)},
        )
        if (owner.pk, team_id) not in self.roles:
            expected = 404  # the owner left the team: its rows are out of its reach
        elif target.pk == owner.pk:
            expected = 200  # one's own grants: a no-op
        elif (target.pk, team_id) not in self.roles:
            expected = 422
        else:
            expected = 200
        assert response.status_code == expected, response.content
        if expected == 200 and target.pk != owner.pk:
            self.shares.add((item_id, target.pk))
        self.totals["steps"] += 1

    def _expected_actions(self, user: User, item_id: Any) -> set[str]:
        team_id, owner_id = self.items[item_id]
        key = self.roles.get((user.pk, team_id))
        if key is None:
            return set()
        held = CARRIES[key] & set(OBJECT_ACTIONS)
        if owner_id == user.pk:
            held |= set(OBJECT_ACTIONS)  # the creator's grants
        if (item_id, user.pk) in self.shares:
            held |= {"view"}
        return held

    @invariant()
    def no_read_crosses_a_team(self) -> None:
        for user in self.users:
            for team in self.teams:
                response = self._get(user, "/api/v1/items/?limit=100", team)
                self.totals["reads"] += 1
                if (user.pk, team.pk) not in self.roles:
                    assert response.status_code == 404
                    continue
                want = {
                    item_id
                    for item_id, (team_id, _owner) in self.items.items()
                    if team_id == team.pk and "view" in self._expected_actions(user, item_id)
                }
                body = response.json()
                seen = {row["id"] for row in body["data"]}
                if seen - want:
                    self.totals["crossed"] += 1
                assert seen == want, (team.name, sorted(seen ^ want))
                assert body["count"] == len(want)

    @invariant()
    def no_member_gains_a_right(self) -> None:
        rows = Item.objects.in_bulk(list(self.items))
        for user in self.users:
            user.refresh_from_db()
            for item_id, (team_id, _owner) in self.items.items():
                obj = rows[next(pk for pk in rows if str(pk) == str(item_id))]
                held = object_actions_of(user, obj, team_id=team_id)
                if held - self._expected_actions(user, item_id):
                    self.totals["gained"] += 1
                assert held == self._expected_actions(user, item_id)
                other = next(t for t in self.teams if t.pk != team_id)
                assert object_actions_of(user, obj, team_id=other.pk) == set()


def test_nothing_crosses_a_team_and_no_member_gains_a_right(capsys):
    totals = {"sequences": 0, "steps": 0, "reads": 0, "crossed": 0, "gained": 0}
    machine = type("Machine", (TeamMachine,), {"totals": totals})
    try:
        # Every step reads every user's list in every team: a few short sequences.
        run_seeded(machine, name="teams", capsys=capsys, sequences=10, steps=15)
    finally:
        with capsys.disabled():
            print(
                f"teams property: {totals['sequences']} sequences, {totals['steps']} steps, "
                f"{totals['reads']} reads, crossed: {totals['crossed']}, "
                f"gained: {totals['gained']}"
            )
    assert totals["crossed"] == 0
    assert totals["gained"] == 0
