"""Team roles: default roles are fixed, custom ones hold team permissions only, and nobody
hands out what it does not hold."""

from __future__ import annotations

import pytest

from apps.teams.models import Membership, TeamRole
from tests.teams.conftest import role_of

pytestmark = pytest.mark.django_db


def roles_url(team) -> str:
    return f"/api/v1/teams/{team.pk}/roles"


def test_default_roles_and_their_rights(client_for, owner, team):
    body = client_for(owner).get(roles_url(team)).json()
    roles = {row["key"]: row for row in body["data"]}
    assert set(roles) == {"owner", "admin", "member", "viewer", "guest"}
    assert "teams.manage_members" in roles["admin"]["permissions"]
    assert "teams.manage_members" not in roles["member"]["permissions"]
    assert "items.change_item" in roles["member"]["permissions"]
    assert "items.change_item" not in roles["viewer"]["permissions"]
    assert "items.view_item" in roles["viewer"]["permissions"]
    assert roles["owner"]["member_count"] == 1


def test_create_a_custom_role(client_for, owner, team):
    response = client_for(owner).post(
        roles_url(team),
        {"name": "Editors", "permissions": ["teams.view_team", "items.change_item"]},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["permissions"] == ["items.change_item", "teams.view_team"]
    assert response.json()["key"] == ""


def test_roles_hold_team_permissions_only(client_for, owner, team):
    response = client_for(owner).post(
        roles_url(team), {"name": "Sneaky", "permissions": ["users.change_user"]}, format="json"
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "permissions"]


def test_members_cannot_manage_roles(client_for, team, account, join):
    member = account()
    join(team, member, "member")
    response = client_for(member).post(
        roles_url(team), {"name": "Mine", "permissions": ["teams.view_team"]}, format="json"
    )
    assert response.status_code == 403


def test_a_custom_role_with_manage_roles_cannot_grow_itself(client_for, owner, team, account, join):
    from apps.teams.services import member_set_role, team_role_create

    lead = team_role_create(
        actor=owner,
        team=team,
        name="Role keepers",
        permissions=["teams.view_team", "teams.manage_roles"],
    )
    keeper = account()
    membership = join(team, keeper, "viewer")
    member_set_role(actor=owner, team=team, membership=membership, role=lead)
    grow = client_for(keeper).patch(
        f"{roles_url(team)}/{lead.pk}",
        {"permissions": ["teams.view_team", "teams.manage_roles", "teams.manage_members"]},
        format="json",
    )
    assert grow.status_code == 403
    made = client_for(keeper).post(
        roles_url(team), {"name": "Bigger", "permissions": ["teams.manage_members"]}, format="json"
    )
    assert made.status_code == 403
    assert not TeamRole.objects.filter(team=team, name="Bigger").exists()


def test_default_roles_are_fixed(client_for, owner, team):
    member = role_of(team, "member")
    client = client_for(owner)
    changed = client.patch(
        f"{roles_url(team)}/{member.pk}", {"permissions": ["teams.view_team"]}, format="json"
    )
    assert changed.status_code == 409
    assert client.patch(f"{roles_url(team)}/{member.pk}", {"name": "X"}).status_code == 409
    assert client.delete(f"{roles_url(team)}/{member.pk}").status_code == 409
    described = client.patch(
        f"{roles_url(team)}/{member.pk}", {"description": "Our people"}, format="json"
    )
    assert described.status_code == 200
    assert described.json()["description"] == "Our people"


def test_a_role_in_use_cannot_be_deleted(client_for, owner, team, account, join):
    from apps.teams.services import member_set_role, team_role_create

    role = team_role_create(actor=owner, team=team, name="Editors", permissions=[])
    membership = join(team, account(), "viewer")
    member_set_role(actor=owner, team=team, membership=membership, role=role)
    assert client_for(owner).delete(f"{roles_url(team)}/{role.pk}").status_code == 409
    member_set_role(actor=owner, team=team, membership=membership, role=role_of(team, "viewer"))
    assert client_for(owner).delete(f"{roles_url(team)}/{role.pk}").status_code == 200
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_duplicate_role_names_are_409(client_for, owner, team):
    response = client_for(owner).post(roles_url(team), {"name": "admin"}, format="json")
    assert response.status_code == 409


def test_listing_roles_reads_a_fixed_number_of_rows(
    client_for, owner, team, django_assert_max_num_queries
):
    from apps.teams.services import team_role_create

    client = client_for(owner)
    client.get(roles_url(team))  # warm the per-process caches (content types)
    for index in range(5):
        team_role_create(
            actor=owner, team=team, name=f"Custom {index}", permissions=["items.view_item"]
        )
    with django_assert_max_num_queries(8):  # a query per custom role would be 12
        body = client.get(roles_url(team)).json()
    assert body["count"] == 10
    assert all(row["permissions"] for row in body["data"])
