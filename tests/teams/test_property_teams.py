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

A second machine (same memberships) adds projects, each with one document processed
in-process whose text holds its team's own word, and one chat message at a time:

3. No search hit crosses a team: every user's `POST /search` for all teams' words (each
   mode in turn), in each of its teams, finds exactly the documents of that team's
   projects it may view; a team the user is not in is a 404.
4. No chat citation crosses a team: a message with documents in a project's
   conversation cites only that project's documents.
5. No activity entry crosses a team: each team's log, read by an owner or admin, holds
   only entries carrying that team; an outsider gets a 404.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.db import transaction
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from rest_framework.test import APIClient

from apps.items.models import Item
from apps.projects.models import Document
from apps.projects.services import project_create
from apps.teams.models import Membership, Team
from apps.teams.services import invitation_accept, member_remove, member_set_role, team_create
from apps.users.models import User
from apps.users.services import user_create
from launch.errors import Conflict
from launch.permissions import OBJECT_ACTIONS, object_actions_of
from launch.vector_store.services import SEARCH_MODES
from tests.conftest import PASSWORD, bearer
from tests.projects.conftest import ingest
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


class Memberships(RuleBasedStateMachine):
    """The teams, their members and the membership rules both machines share."""

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


class TeamMachine(Memberships):
    def __init__(self) -> None:
        super().__init__()
        self.items: dict[Any, tuple[Any, Any]] = {}
        self.shares: set[tuple[Any, Any]] = set()

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


# One word per team (personal ones first, as `cast` orders them), found in no other
# team's documents: a hit or a citation carrying it names the team it came from.
WORDS = ("marzipan", "quokka", "obsidian", "tamarind", "xylophone", "zeppelin")
ANY_WORD = " or ".join(WORDS)  # websearch syntax: a chunk with any team's word matches
MAX_DOCUMENTS = 6  # processed in-process: the costly rule, bounded per sequence


class KnowledgeMachine(Memberships):
    """Issue 13's other reads: search hits, chat citations and the activity log. Members
    create projects in their teams with one processed document naming the team's word;
    after every step each member's search in each of its teams finds exactly the
    documents of that team's projects it may view, and each team's log holds only that
    team's entries."""

    def __init__(self) -> None:
        super().__init__()
        self.projects: dict[Any, tuple[Any, Any]] = {}  # project -> (team, owner)
        self.documents: dict[str, Any] = {}  # document id -> project
        self.rounds = 0  # search invariant checks so far: the mode turns with them

    def _may_view(self, user: User, project_id: Any) -> bool:
        team_id, owner_id = self.projects[project_id]
        key = self.roles.get((user.pk, team_id))
        return key is not None and ("view" in CARRIES[key] or owner_id == user.pk)

    def _visible_documents(self, user: User, team: Team) -> set[str]:
        return {
            document_id
            for document_id, project_id in self.documents.items()
            if self.projects[project_id][0] == team.pk and self._may_view(user, project_id)
        }

    @precondition(lambda self: len(self.documents) < MAX_DOCUMENTS)
    @rule(data=st.data())
    def add_document(self, data: st.DataObject) -> None:
        able = [
            (user, team)
            for user in self.users
            for team in self.teams
            if "add" in CARRIES.get(self.roles.get((user.pk, team.pk), "guest"), set())
        ]
        user, team = data.draw(st.sampled_from(able), label="creator, team")
        project = project_create(user=user, name=f"Project {next(_seq)}", team=team)
        word = WORDS[self.teams.index(team)]
        document = ingest(
            project=project,
            user=user,
            data=f"The {word} ledger lists every {word} shipment of the week.".encode(),
            name=f"{word}.txt",
        )
        assert document.status == Document.Status.COMPLETED, document.error_message
        self.projects[project.pk] = (team.pk, user.pk)
        self.documents[str(document.pk)] = project.pk
        self.totals["documents"] += 1
        self.totals["steps"] += 1

    @precondition(lambda self: bool(self.documents))
    @rule(data=st.data())
    def ask_in_a_project(self, data: st.DataObject) -> None:
        """One chat message with documents: it cites only its project's documents."""
        readers = [
            (user, project_id)
            for project_id in sorted(self.projects, key=str)
            for user in self.users
            if self._may_view(user, project_id)
        ]
        if not readers:
            return
        user, project_id = data.draw(st.sampled_from(readers), label="asker, project")
        client, team_id = self.clients[user.pk], str(self.projects[project_id][0])
        conversation = client.post(
            "/api/v1/chat/conversations",
            {"title": "Shipments", "project_id": str(project_id), "use_documents": True},
            format="json",
            headers={"X-Team-ID": team_id},
        )
        assert conversation.status_code == 201, conversation.content
        response = client.post(
            f"/api/v1/chat/conversations/{conversation.json()['id']}/messages",
            {"content": f"Which shipments: {ANY_WORD}?", "use_documents": True},
            format="json",
            headers={"X-Team-ID": team_id},
        )
        assert response.status_code == 201, response.content
        cited = {ref["document_id"] for ref in response.json()["document_references"]}
        own = {d for d, p in self.documents.items() if p == project_id}
        self.totals["messages"] += 1
        self.totals["citations"] += len(cited)
        if cited - own:
            self.totals["crossed"] += 1
        assert cited <= own, sorted(cited - own)
        assert cited, "the project's document names a word the question asks about"
        self.totals["steps"] += 1

    @invariant()
    def no_search_hit_crosses_a_team(self) -> None:
        # Each mode in turn: every document holds one chunk, far fewer than `k`, so each
        # mode returns every chunk the user may search in the team (the keyword side
        # because the query names every team's word).
        mode = SEARCH_MODES[self.rounds % len(SEARCH_MODES)]
        self.rounds += 1
        for user in self.users:
            for team in self.teams:
                response = self.clients[user.pk].post(
                    "/api/v1/search",
                    {"query": ANY_WORD, "mode": mode, "k": 50},
                    format="json",
                    headers={"X-Team-ID": str(team.pk)},
                )
                self.totals["searches"] += 1
                key = self.roles.get((user.pk, team.pk))
                if key is None:
                    assert response.status_code == 404, response.content
                    continue
                assert response.status_code == 200, (key, response.content)
                seen = {hit["document_id"] for hit in response.json()["data"]}
                want = self._visible_documents(user, team)
                self.totals["hits"] += len(seen)
                if seen - want:
                    self.totals["crossed"] += 1
                assert seen == want, (mode, team.name, key, sorted(seen ^ want))

    @invariant()
    def no_activity_entry_crosses_a_team(self) -> None:
        for team in self.teams:
            reader = next(
                user
                for user in self.users
                if self.roles.get((user.pk, team.pk)) in {"owner", "admin"}
            )
            response = self.clients[reader.pk].get(f"/api/v1/teams/{team.pk}/activity?limit=100")
            assert response.status_code == 200, response.content
            teams_seen = {entry["additional_data"].get("team") for entry in response.json()["data"]}
            self.totals["entries"] += len(response.json()["data"])
            if teams_seen - {str(team.pk)}:
                self.totals["crossed"] += 1
            assert teams_seen <= {str(team.pk)}, teams_seen
            outsider = next((u for u in self.users if (u.pk, team.pk) not in self.roles), None)
            if outsider is not None:
                other = self.clients[outsider.pk].get(f"/api/v1/teams/{team.pk}/activity")
                assert other.status_code == 404, other.content


def test_no_search_hit_citation_or_activity_entry_crosses_a_team(capsys):
    totals = {
        "sequences": 0,
        "steps": 0,
        "documents": 0,
        "searches": 0,
        "hits": 0,
        "messages": 0,
        "citations": 0,
        "entries": 0,
        "crossed": 0,
    }
    machine = type("Machine", (KnowledgeMachine,), {"totals": totals})
    try:
        run_seeded(machine, name="teams knowledge", capsys=capsys, sequences=6, steps=20)
    finally:
        with capsys.disabled():
            print(
                f"teams knowledge property: {totals['sequences']} sequences, "
                f"{totals['steps']} steps, {totals['documents']} documents, "
                f"{totals['searches']} searches ({totals['hits']} hits), "
                f"{totals['messages']} messages ({totals['citations']} citations), "
                f"{totals['entries']} activity entries, "
                f"crossed: {totals['crossed']}"
            )
    assert totals["crossed"] == 0
