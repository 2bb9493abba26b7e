"""Activity entries carry their team, and a team's log is read through its own route by
members whose role holds `teams.view_activity`, never seeing another team's entries."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from auditlog.models import LogEntry
from django.db import connection
from rest_framework.test import APIClient

from apps.apikeys.services import apikey_create
from apps.items.models import Item
from apps.operations.activity import system_activity
from apps.operations.selectors import team_activity_list
from apps.projects.models import Document, Project
from apps.teams.models import Team
from apps.teams.roles import MANAGE_API_KEYS, VIEW_ACTIVITY, default_role_permissions
from apps.teams.services import team_create
from apps.users.models import User
from tests.teams.conftest import invite

pytestmark = pytest.mark.django_db


def activity_url(team: Team) -> str:
    return f"/api/v1/teams/{team.pk}/activity"


def team_item(user: User, team: Team, title: str = "Roadmap") -> Item:
    # `team_id` is set on the instance, as a team-owned object carries it.
    item = Item(title=title, owner=user)
    item.team_id = team.pk
    item.save()
    return item


def test_entries_about_a_team_owned_object_carry_its_team(owner, team):
    item = team_item(owner, team)
    (created,) = LogEntry.objects.get_for_object(item)
    assert created.additional_data == {"team": str(team.pk)}


def test_a_document_entry_carries_its_project_team(owner, team):
    project = Project(name="Launch", owner=owner)
    project.team_id = team.pk
    project.save()
    document = Document.objects.create(
        project=project,
        filename="a.txt",
        file="documents/a.txt",
        file_type="txt",
        file_size=1,
        sha256="0" * 64,
    )
    (created,) = LogEntry.objects.get_for_object(document)
    assert created.additional_data["team"] == str(team.pk)


def test_a_command_entry_keeps_both_its_source_and_its_team(owner, team):
    with system_activity("command", "seed_demo"):
        item = team_item(owner, team)
    (created,) = LogEntry.objects.get_for_object(item)
    assert created.additional_data == {
        "source": "command",
        "command": "seed_demo",
        "team": str(team.pk),
    }


def test_entries_about_what_no_team_owns_carry_none(account):
    user = account()
    (created,) = LogEntry.objects.get_for_object(user).filter(action=LogEntry.Action.CREATE)
    assert "team" not in (created.additional_data or {})


def test_team_rights_entries_carry_the_team(owner, team):
    invite(team, "grace@example.com", actor=owner)
    entry = LogEntry.objects.filter(additional_data__rights="team_invitations").get()
    assert entry.additional_data["team"] == str(team.pk)


def test_owner_and_admin_roles_read_the_log_members_and_viewers_do_not():
    for key in ("owner", "admin"):
        assert VIEW_ACTIVITY in default_role_permissions(key)
        assert MANAGE_API_KEYS in default_role_permissions(key)
    for key in ("member", "viewer"):
        assert VIEW_ACTIVITY not in default_role_permissions(key)
        assert MANAGE_API_KEYS not in default_role_permissions(key)


def test_the_team_log_is_newest_first_and_paginated(client_for, owner, team):
    for n in range(3):
        team_item(owner, team, f"item {n}")
    response = client_for(owner).get(activity_url(team), {"skip": 0, "limit": 2})
    assert response.status_code == 200
    body = response.json()
    # The three items plus the rights entries of the team's creation, if any.
    assert body["count"] == team_activity_list(team_id=team.pk).count()
    assert body["count"] >= 3
    assert len(body["data"]) == 2
    assert body["data"][0]["object_repr"] == "item 2"
    assert body["data"][1]["object_repr"] == "item 1"
    stamps = [row["timestamp"] for row in body["data"]]
    assert stamps == sorted(stamps, reverse=True)
    assert all(row["additional_data"]["team"] == str(team.pk) for row in body["data"])


def test_a_team_admin_never_sees_another_team_entries(
    client_for, account: Callable[..., User], owner, team, join
):
    other_owner = account()
    other = team_create(actor=other_owner, name="Globex")
    team_item(other_owner, other, "Globex secret")
    invite(other, "someone@example.com", actor=other_owner)
    admin = account()
    join(team, admin, "admin")
    team_item(owner, team, "Acme plan")
    rows = client_for(admin).get(activity_url(team), {"limit": 100}).json()["data"]
    assert rows
    assert {row["additional_data"]["team"] for row in rows} == {str(team.pk)}
    assert "Globex secret" not in str(rows)
    assert "someone@example.com" not in str(rows)
    # Team B's log is not even visible as a team: 404, as for any outsider.
    response = client_for(admin).get(activity_url(other))
    assert response.status_code == 404


def test_who_may_read_a_team_log(client_for, account, team, join):
    member, viewer = account(), account()
    join(team, member, "member")
    join(team, viewer, "viewer")
    assert client_for(member).get(activity_url(team)).status_code == 403
    assert client_for(viewer).get(activity_url(team)).status_code == 403
    assert client_for(account()).get(activity_url(team)).status_code == 404
    assert client_for(account()).get("/api/v1/teams/not-a-uuid/activity").status_code == 404


def test_the_team_filter_uses_the_expression_index(owner, team):
    team_item(owner, team)
    sql, params = team_activity_list(team_id=team.pk)[:50].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "operations_activity_team_idx" in plan


def test_superusers_filter_the_whole_log_by_team(client_for, superuser, owner, team, account):
    other = team_create(actor=account(), name="Globex")
    team_item(owner, team, "Acme plan")
    team_item(owner, other, "Globex plan")
    response = client_for(superuser).get("/api/v1/activity", {"team_id": str(team.pk)})
    assert response.status_code == 200
    reprs = [row["object_repr"] for row in response.json()["data"]]
    assert "Acme plan" in reprs
    assert "Globex plan" not in reprs
    bad = client_for(superuser).get("/api/v1/activity", {"team_id": "nope"})
    assert bad.status_code == 422


def test_a_program_does_not_read_a_team_log(owner, team):
    _key, raw = apikey_create(user=owner, name="script", scopes=[])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get(activity_url(team)).status_code == 403


def test_the_migration_gives_phase_one_team_entries_their_team(owner, team):
    import importlib

    migration = importlib.import_module("apps.operations.migrations.0003_activity_team_index")
    old = LogEntry.objects.create(
        content_type_id=LogEntry.objects.first().content_type_id,
        object_pk=str(team.pk),
        object_repr=team.name,
        action=LogEntry.Action.UPDATE,
        additional_data={"rights": "team_members", "team_id": str(team.pk)},
    )
    unrelated = LogEntry.objects.create(
        content_type_id=old.content_type_id,
        object_pk="1",
        object_repr="x",
        action=LogEntry.Action.UPDATE,
        additional_data={"rights": "grants", "team_id": "not a team entry"},
    )
    with connection.cursor() as cursor:
        cursor.execute(migration.Migration.operations[0].sql)
    old.refresh_from_db()
    unrelated.refresh_from_db()
    assert old.additional_data["team"] == str(team.pk)
    assert "team" not in unrelated.additional_data
    assert old in team_activity_list(team_id=team.pk)
