"""Team API keys: made by members holding `teams.manage_api_keys`, scoped within what
their creator holds (globally and in the team), working only while the creator still
manages the team's keys, and naming their team on the request (`request.auth.team_id`)."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from apps.apikeys.authentication import ApiKeyAuthentication
from apps.apikeys.models import ApiKey
from apps.teams.models import Membership
from apps.teams.services import member_remove, member_set_role, team_create, team_role_create
from tests.teams.conftest import role_of

pytestmark = pytest.mark.django_db


def keys_url(team) -> str:
    return f"/api/v1/teams/{team.pk}/api-keys"


def key_client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def create(client, team, scopes=("items.view_item",), name="ci"):
    return client.post(keys_url(team), {"name": name, "scopes": list(scopes)}, format="json")


def test_an_owner_creates_a_team_key_shown_once(client_for, owner, team):
    response = create(client_for(owner), team)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["team_id"] == str(team.pk)
    assert body["created_by_id"] == str(owner.pk)
    assert body["created_by_email"] == owner.email
    assert body["scopes"] == ["items.view_item"]
    assert response["Cache-Control"] == "no-store"
    raw = body["key"]
    listed = client_for(owner).get(keys_url(team))
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["data"]] == [body["id"]]
    assert raw not in listed.content.decode()
    # A team key is the team's: the creator's personal list does not show it.
    personal = client_for(owner).get("/api/v1/api-keys").json()
    assert personal["count"] == 0


def test_a_team_key_works_and_names_its_team(client_for, owner, team):
    raw = create(client_for(owner), team).json()["key"]
    assert key_client(raw).get("/api/v1/items/").status_code == 200
    request = Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {raw}"))
    result = ApiKeyAuthentication().authenticate(request)
    assert result is not None
    user, key = result
    assert user == owner
    assert key.team_id == team.pk
    # Within its scopes only, as a personal key.
    assert key_client(raw).post("/api/v1/items/", {"title": "x"}).status_code == 403


def test_a_personal_key_names_no_team(client_for, owner):
    raw = client_for(owner).post("/api/v1/api-keys", {"name": "me", "scopes": []}).json()["key"]
    request = Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {raw}"))
    result = ApiKeyAuthentication().authenticate(request)
    assert result is not None
    _user, key = result
    assert key.team_id is None


def test_who_may_manage_a_team_keys(client_for, account, owner, team, join):
    member, admin = account(), account()
    join(team, member, "member")
    join(team, admin, "admin")
    assert create(client_for(member), team).status_code == 403
    assert client_for(member).get(keys_url(team)).status_code == 403
    made = create(client_for(admin), team)
    assert made.status_code == 201
    key_id = made.json()["id"]
    assert client_for(member).delete(f"{keys_url(team)}/{key_id}").status_code == 403
    # An outsider learns nothing: 404, before any validation.
    outsider = client_for(account())
    assert outsider.get(keys_url(team)).status_code == 404
    assert outsider.post(keys_url(team), {}, format="json").status_code == 404
    assert outsider.delete(f"{keys_url(team)}/{key_id}").status_code == 404
    # The owner revokes the admin's key.
    assert client_for(owner).delete(f"{keys_url(team)}/{key_id}").status_code == 200
    assert ApiKey.objects.get(pk=key_id).revoked_at is not None


def test_a_program_never_manages_team_keys(client_for, owner, team):
    raw = create(client_for(owner), team).json()["key"]
    assert key_client(raw).get(keys_url(team)).status_code == 403
    assert create(key_client(raw), team).status_code == 403


def test_scopes_are_within_the_creator_rights_globally_and_in_the_team(
    client_for, account, owner, team
):
    # A custom role that manages keys and may only view items in this team.
    keeper_role = team_role_create(
        actor=owner,
        team=team,
        name="Key keeper",
        permissions=["teams.view_team", "teams.manage_api_keys", "items.view_item"],
    )
    keeper = account()
    Membership.objects.create(team=team, user=keeper, role=keeper_role)
    # Globally keeper holds items.add_item (the default role); in the team it does not.
    refused = create(client_for(keeper), team, scopes=["items.add_item"])
    assert refused.status_code == 403
    assert "items.add_item" in refused.json()["detail"]
    assert create(client_for(keeper), team, scopes=["items.view_item"]).status_code == 201
    # Nor a permission it holds nowhere, nor an unknown one.
    assert create(client_for(keeper), team, scopes=["auth.change_group"]).status_code == 403
    assert create(client_for(keeper), team, scopes=["teams.nope"]).status_code == 422


def test_a_key_stops_working_when_its_creator_loses_the_right(
    client_for, account, owner, team, join
):
    admin = account()
    join(team, admin, "admin")
    raw = create(client_for(admin), team).json()["key"]
    assert key_client(raw).get("/api/v1/items/").status_code == 200
    membership = Membership.objects.get(team=team, user=admin)
    member_set_role(actor=owner, team=team, membership=membership, role=role_of(team, "member"))
    refused = key_client(raw).get("/api/v1/items/")
    assert refused.status_code == 401
    assert "creator" in refused.json()["detail"]
    # A live check, not a revocation: the right back, the key works again.
    membership.refresh_from_db()
    member_set_role(actor=owner, team=team, membership=membership, role=role_of(team, "admin"))
    assert key_client(raw).get("/api/v1/items/").status_code == 200


def test_a_key_stops_working_when_its_creator_leaves(client_for, account, team, join):
    admin = account()
    join(team, admin, "admin")
    raw = create(client_for(admin), team).json()["key"]
    membership = Membership.objects.get(team=team, user=admin)
    member_remove(actor=admin, team=team, membership=membership)
    assert key_client(raw).get("/api/v1/items/").status_code == 401


def test_create_and_revoke_are_in_the_team_activity_log(client_for, owner, team):
    body = create(client_for(owner), team).json()
    client_for(owner).delete(f"{keys_url(team)}/{body['id']}")
    entries = LogEntry.objects.filter(additional_data__api_key=body["prefix"]).order_by("pk")
    assert [e.additional_data["event"] for e in entries] == ["created", "revoked"]
    assert {e.additional_data["team"] for e in entries} == {str(team.pk)}
    assert all(e.actor == owner for e in entries)
    log = client_for(owner).get(f"/api/v1/teams/{team.pk}/activity").json()["data"]
    assert {"created", "revoked"} <= {row["additional_data"].get("event") for row in log}
    assert body["key"] not in str(log)


def test_another_team_key_is_404(client_for, account, owner, team):
    other_owner = account()
    other = team_create(actor=other_owner, name="Globex")
    theirs = create(client_for(other_owner), other).json()["id"]
    assert client_for(owner).delete(f"{keys_url(team)}/{theirs}").status_code == 404
    assert client_for(owner).delete(f"{keys_url(team)}/not-a-uuid").status_code == 404
    assert ApiKey.objects.get(pk=theirs).revoked_at is None


def test_team_keys_are_counted_per_team(client_for, owner, team, settings):
    settings.API_KEY_MAX_PER_USER = 1
    assert create(client_for(owner), team).status_code == 201
    assert create(client_for(owner), team).status_code == 409
    personal = client_for(owner).post("/api/v1/api-keys", {"name": "me", "scopes": []})
    assert personal.status_code == 201


def test_a_team_key_works_in_its_team_and_no_other(client_for, owner, team):
    from apps.items.services import item_create

    in_team = item_create(user=owner, title="team notes", team=team)
    personal = item_create(user=owner, title="my own notes", team=None)
    raw = create(client_for(owner), team).json()["key"]
    # No header: the key's team, not its creator's default (personal) team.
    listed = key_client(raw).get("/api/v1/items/").json()
    assert [row["id"] for row in listed["data"]] == [str(in_team.pk)]
    assert key_client(raw).get(f"/api/v1/items/{personal.pk}").status_code == 404
    # Naming the key's own team is fine; naming any other (even the creator's) is a 404.
    same = key_client(raw).get("/api/v1/items/", HTTP_X_TEAM_ID=str(team.pk))
    assert same.status_code == 200
    other = key_client(raw).get("/api/v1/items/", HTTP_X_TEAM_ID=str(personal.team_id))
    assert other.status_code == 404
