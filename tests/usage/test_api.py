"""`/usage/me` and `/usage`: grouping, totals, CSV, date validation and who may read what."""

from __future__ import annotations

import csv
import datetime
import io
import uuid

import pytest
from django.utils import timezone

from apps.apikeys.services import apikey_create
from apps.teams.models import Membership, TeamRole
from apps.teams.services import team_create, team_ensure_personal
from apps.usage.models import ModelCall
from apps.usage.services import model_call_record
from launch.ai.metering import CallRecord

pytestmark = pytest.mark.django_db

TODAY = timezone.now().date()


def record(user, *, days_ago=0, purpose="answer", model="m-1", tokens=(10, 5), project=None):
    """A ledger row written by the sink, dated `days_ago`."""
    key = uuid.uuid4().hex
    model_call_record(
        CallRecord(
            purpose=purpose,
            provider="openai",
            model=model,
            input_tokens=tokens[0],
            output_tokens=tokens[1],
            tokens_estimated=False,
            latency_ms=3,
            status="ok",
            idempotency_key=key,
            attribution={"user": user, "project_id": project},
        )
    )
    when = timezone.now() - datetime.timedelta(days=days_ago)
    ModelCall.objects.filter(idempotency_key=key).update(created_at=when)


def day(days_ago: int) -> str:
    return str(TODAY - datetime.timedelta(days=days_ago))


@pytest.fixture
def ledger(member, stranger):
    team_ensure_personal(user=member)
    team_ensure_personal(user=stranger)
    record(member, days_ago=0, model="m-1", tokens=(10, 5))
    record(member, days_ago=0, model="m-2", purpose="ingest", tokens=(100, 0))
    record(member, days_ago=2, model="m-1", tokens=(20, 7))
    record(stranger, days_ago=0, model="m-1", tokens=(1000, 1000))


def test_my_usage_by_day_sums_only_my_calls(client_for, member, ledger):
    response = client_for(member).get("/api/v1/usage/me", {"from": day(6), "to": day(0)})
    assert response.status_code == 200
    body = response.json()
    assert body["group_by"] == "day"
    assert [
        (r["key"], r["calls"], r["input_tokens"], r["output_tokens"]) for r in body["data"]
    ] == [
        (day(2), 1, 20, 7),
        (day(0), 2, 110, 5),
    ]
    assert body["count"] == 2
    assert body["totals"]["total_tokens"] == 142
    assert body["totals"]["calls"] == 3
    assert body["totals"]["cost"] == "0.00000000"  # no prices set: free, as a decimal string


def test_costs_are_summed_as_decimal_strings(client_for, member, settings):
    settings.USAGE_PRICES = {"m-1": {"input": "0.5", "output": "1.5"}}  # per 1,000 tokens
    record(member, tokens=(1000, 1000))
    record(member, tokens=(1, 0))
    body = client_for(member).get("/api/v1/usage/me", {"group_by": "model"}).json()
    assert body["data"][0]["cost"] == "2.00050000"
    assert body["totals"]["cost"] == "2.00050000"


def test_my_usage_by_model_and_by_purpose(client_for, member, ledger):
    client = client_for(member)
    by_model = client.get("/api/v1/usage/me", {"group_by": "model"}).json()["data"]
    assert {r["key"]: r["input_tokens"] for r in by_model} == {"m-1": 30, "m-2": 100}
    assert {r["label"] for r in by_model} == {"openai/m-1", "openai/m-2"}
    by_purpose = client.get("/api/v1/usage/me/", {"group_by": "purpose"}).json()["data"]
    assert {r["key"]: r["calls"] for r in by_purpose} == {"answer": 2, "ingest": 1}


def test_the_range_includes_both_days_and_nothing_outside(client_for, member, ledger):
    body = client_for(member).get("/api/v1/usage/me", {"from": day(1), "to": day(0)}).json()
    assert body["totals"]["calls"] == 2
    assert (body["from"], body["to"]) == (day(1), day(0))


@pytest.mark.parametrize("how", ["query", "accept"])
def test_csv_export(client_for, member, ledger, how):
    client = client_for(member)
    params = {"group_by": "model", "from": day(6), "to": day(0)}
    if how == "query":
        response = client.get("/api/v1/usage/me", {**params, "format": "csv"})
    else:
        response = client.get("/api/v1/usage/me", params, HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [(r["key"], r["calls"], r["input_tokens"]) for r in rows] == [
        ("m-1", "2", "30"),
        ("m-2", "1", "100"),
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "yesterday"}, "from"),
        ({"to": "2026-02-30"}, "to"),
        ({"group_by": "colour"}, "group_by"),
        ({"group_by": "user"}, "group_by"),  # not offered on /usage/me
        ({"from": "2026-05-02", "to": "2026-05-01"}, "from"),
        ({"from": "2024-01-01", "to": "2026-01-01"}, "to"),  # more than 366 days
        ({"format": "xml"}, "format"),
    ],
)
def test_bad_query_is_422_in_the_envelope(client_for, member, params, field):
    response = client_for(member).get("/api/v1/usage/me", params)
    assert response.status_code == 422
    (item,) = response.json()["detail"]
    assert item["loc"] == ["query", field]


def test_a_bad_query_asking_for_csv_still_answers_json(client_for, member):
    response = client_for(member).get("/api/v1/usage/me", {"group_by": "x", "format": "csv"})
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"][0]["loc"] == ["query", "group_by"]


def test_anonymous_is_401(api):
    assert api.get("/api/v1/usage/me").status_code == 401
    assert api.get("/api/v1/usage").status_code == 401


def test_an_api_key_reads_its_users_usage_but_not_the_teams(member, ledger, key_client):
    _, raw = apikey_create(user=member, name="script", scopes=[])
    client = key_client(raw)
    body = client.get("/api/v1/usage/me", {"group_by": "model"}).json()
    assert sum(r["calls"] for r in body["data"]) == 3
    assert client.get("/api/v1/usage").status_code == 403


def test_a_superuser_sees_everyone_by_user(client_for, superuser, member, stranger, ledger):
    body = client_for(superuser).get("/api/v1/usage", {"group_by": "user"}).json()
    assert {r["label"]: r["calls"] for r in body["data"]} == {member.email: 3, stranger.email: 1}


def test_by_project(client_for, superuser, member):
    project = uuid.uuid4()
    record(member, project=project, tokens=(4, 4))
    record(member, tokens=(1, 1))
    data = client_for(superuser).get("/api/v1/usage", {"group_by": "project"}).json()["data"]
    assert [(r["key"], r["total_tokens"]) for r in data] == [(str(project), 8), ("", 2)]


def test_a_member_without_a_team_is_refused_the_team_report(client_for, member, ledger):
    assert client_for(member).get("/api/v1/usage").status_code == 403


@pytest.fixture
def shared_team(member, stranger, make_member):
    """A team founded by `member` (owner) with `stranger` as a plain member; both keep
    their personal team as their default."""
    team_ensure_personal(user=member)
    team_ensure_personal(user=stranger)
    team = team_create(actor=member, name="Harbour")
    # Joining through an invitation is the teams app's subject; a plain row will do.
    Membership.objects.create(
        team=team, user=stranger, role=TeamRole.objects.get(team=team, key="member")
    )
    return team


def test_team_admins_see_their_team_and_members_do_not(
    client_for, member, stranger, shared_team, make_member
):
    # Calls are booked to the caller's default team (the personal one here), so book
    # one row to the shared team by hand.
    model_call_record(
        CallRecord(
            "answer", "openai", "m-1", 7, 3, False, 1, "ok", None, {"team_id": shared_team.pk}
        )
    )
    record(member)  # the personal team's, not the shared team's
    owner = client_for(member).get("/api/v1/usage", {"team": str(shared_team.pk)})
    assert owner.status_code == 200
    assert owner.json()["totals"]["total_tokens"] == 10
    assert owner.json()["team"] == str(shared_team.pk)
    assert (
        client_for(stranger).get("/api/v1/usage", {"team": str(shared_team.pk)}).status_code == 403
    )
    outsider = make_member()
    assert (
        client_for(outsider).get("/api/v1/usage", {"team": str(shared_team.pk)}).status_code == 403
    )


def test_a_replayed_write_with_the_same_key_is_counted_once(member):
    call = CallRecord("ingest", "openai", "m-1", 9, 0, False, 1, "ok", "task-1:0:v1:0", {})
    model_call_record(call)
    model_call_record(call)
    assert ModelCall.objects.filter(idempotency_key="task-1:0:v1:0").count() == 1
