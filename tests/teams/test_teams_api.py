"""Teams: creation, personal teams, visibility (404 for outsiders), rename and delete."""

from __future__ import annotations

import uuid

import pytest

from apps.teams.models import Membership, Team, TeamRole
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

TEAMS = "/api/v1/teams"


def test_signup_creates_a_personal_team_that_is_the_default(api, client_for):
    response = api.post(
        "/api/v1/users/signup",
        {"email": "new@example.com", "password": PASSWORD, "full_name": "New Person"},
        format="json",
    )
    assert response.status_code == 201
    user_id = response.json()["id"]
    membership = Membership.objects.select_related("team", "role").get(user_id=user_id)
    assert membership.team.is_personal
    assert membership.team.owner_id == uuid.UUID(user_id)
    assert membership.role.key == "owner"
    assert membership.is_default
    assert membership.team.name == "New Person's team"
    assert sorted(TeamRole.objects.filter(team=membership.team).values_list("key", flat=True)) == [
        "admin",
        "guest",
        "member",
        "owner",
        "viewer",
    ]


def test_list_shows_only_my_teams_with_the_personal_one_first(client_for, owner, team, account):
    account()  # someone else's personal team stays out of the list
    body = client_for(owner).get(TEAMS).json()
    assert body["count"] == 2
    assert [row["is_personal"] for row in body["data"]] == [True, False]
    acme = body["data"][1]
    assert acme["name"] == "Acme"
    assert acme["owner_id"] == str(owner.pk)
    assert acme["member_count"] == 1
    assert acme["plan"] == "free"


def test_accounts_made_outside_signup_get_their_personal_team_on_first_list(client_for, make_user):
    user = make_user()  # the manager's create_user, as commands and fixtures do
    assert not Team.objects.filter(owner=user).exists()
    body = client_for(user).get(TEAMS).json()
    assert body["count"] == 1
    assert body["data"][0]["is_personal"]
    client_for(user).get(TEAMS)
    assert Team.objects.filter(owner=user, is_personal=True).count() == 1


def test_create_makes_the_caller_owner_with_default_roles(client_for, owner):
    response = client_for(owner).post(TEAMS, {"name": "Rocket Co", "slug": "rocket"}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "rocket"
    assert not body["is_personal"]
    membership = Membership.objects.get(team_id=body["id"], user=owner)
    assert membership.role.key == "owner"
    assert not membership.is_default  # the personal team stays the default


def test_create_makes_a_free_slug_and_refuses_a_taken_one(client_for, owner, team):
    client = client_for(owner)
    made = client.post(TEAMS, {"name": "Acme"}, format="json").json()
    assert made["slug"].startswith("acme-")
    taken = client.post(TEAMS, {"name": "Other", "slug": team.slug}, format="json")
    assert taken.status_code == 409
    assert taken.json() == {"detail": "A team with this slug already exists."}


@pytest.mark.parametrize(
    ("payload", "field"), [({"name": ""}, "name"), ({"name": "x", "slug": "no spaces"}, "slug")]
)
def test_create_validates_in_the_envelope(client_for, owner, payload, field):
    response = client_for(owner).post(TEAMS, payload, format="json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]


def test_anonymous_is_401(api, team):
    assert api.get(TEAMS).status_code == 401
    assert api.get(f"{TEAMS}/{team.pk}").status_code == 401


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("get", "/members"),
        ("get", "/roles"),
        ("post", "/roles"),
        ("get", "/permissions"),
        ("get", "/invitations"),
        ("post", "/invitations"),
    ],
)
def test_outsiders_get_404_everywhere(client_for, account, team, method, suffix):
    stranger = client_for(account())
    response = getattr(stranger, method)(f"{TEAMS}/{team.pk}{suffix}", {}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    # ... exactly as for a team that does not exist, or an id that is not one.
    assert getattr(stranger, method)(f"{TEAMS}/{uuid.uuid4()}{suffix}").status_code == 404
    assert getattr(stranger, method)(f"{TEAMS}/not-a-uuid{suffix}").status_code == 404


def test_outsiders_get_404_on_members_and_roles_of_a_team(client_for, account, team, owner):
    stranger = client_for(account())
    role = TeamRole.objects.get(team=team, key="member")
    assert stranger.patch(f"{TEAMS}/{team.pk}/members/{owner.pk}", {}).status_code == 404
    assert stranger.delete(f"{TEAMS}/{team.pk}/members/{owner.pk}").status_code == 404
    assert stranger.get(f"{TEAMS}/{team.pk}/roles/{role.pk}").status_code == 404


def test_a_role_of_another_team_is_404(client_for, owner, team, account):
    other = Team.objects.get(owner=owner, is_personal=True)
    foreign = TeamRole.objects.get(team=other, key="viewer")
    assert client_for(owner).get(f"{TEAMS}/{team.pk}/roles/{foreign.pk}").status_code == 404


def test_superusers_see_any_team(client_for, superuser, team):
    assert client_for(superuser).get(f"{TEAMS}/{team.pk}").status_code == 200


def test_rename_needs_change_team(client_for, owner, team, account, join):
    member, admin = account(), account()
    join(team, member, "member")
    join(team, admin, "admin")
    refused = client_for(member).patch(f"{TEAMS}/{team.pk}", {"name": "Mine"}, format="json")
    assert refused.status_code == 403
    renamed = client_for(admin).patch(f"{TEAMS}/{team.pk}", {"name": "Acme Ltd"}, format="json")
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Acme Ltd"


def test_members_cannot_set_the_plan(client_for, owner, team):
    response = client_for(owner).patch(f"{TEAMS}/{team.pk}", {"plan": "enterprise"}, format="json")
    assert response.status_code == 200
    team.refresh_from_db()
    assert team.plan is None  # read-only in the API: still the default plan


def test_only_owners_delete_and_never_a_personal_team(client_for, owner, team, account, join):
    admin = account()
    join(team, admin, "admin")
    assert client_for(admin).delete(f"{TEAMS}/{team.pk}").status_code == 403
    personal = Team.objects.get(owner=owner, is_personal=True)
    refused = client_for(owner).delete(f"{TEAMS}/{personal.pk}")
    assert refused.status_code == 409
    assert refused.json() == {"detail": "A personal team cannot be deleted."}
    deleted = client_for(owner).delete(f"{TEAMS}/{team.pk}")
    assert deleted.status_code == 200
    assert deleted.json() == {"message": "Team deleted successfully"}
    assert not Team.objects.filter(pk=team.pk).exists()
    assert not Membership.objects.filter(team_id=team.pk).exists()


def test_deleting_a_members_default_team_falls_back_to_its_personal_team(
    owner, team, account, join
):
    from apps.teams.services import team_delete

    newcomer = account()
    Membership.objects.filter(user=newcomer).update(is_default=False)
    assert join(team, newcomer).is_default  # it had no default: the joined team became it
    team_delete(actor=owner, team=team)
    default = Membership.objects.get(user=newcomer, is_default=True)
    assert default.team.is_personal


def test_team_permission_catalog(client_for, owner, team):
    body = client_for(owner).get(f"{TEAMS}/{team.pk}/permissions").json()
    codenames = {row["codename"] for row in body["data"]}
    assert {"teams.manage_members", "teams.invite_members", "items.share_item"} <= codenames
    assert "auth.change_group" not in codenames  # global roles are not a team's to hand out
    assert "users.change_user" not in codenames


def test_teams_show_the_member_count_and_my_role(client_for, owner, team, account, join):
    viewer = account()
    join(team, viewer, "viewer")
    join(team, account(), "member")
    listed = client_for(viewer).get(TEAMS).json()["data"]
    acme = next(row for row in listed if row["id"] == str(team.pk))
    personal = next(row for row in listed if row["is_personal"])
    assert acme["member_count"] == 3
    assert acme["my_role"]["key"] == "viewer"
    assert not acme["is_default"]
    assert personal["is_default"]
    assert personal["my_role"]["key"] == "owner"
    detail = client_for(owner).get(f"{TEAMS}/{team.pk}").json()
    assert detail["member_count"] == 3
    assert detail["my_role"]["key"] == "owner"


def test_a_superuser_outside_the_team_has_no_role_in_it(client_for, superuser, team):
    body = client_for(superuser).get(f"{TEAMS}/{team.pk}").json()
    assert body["my_role"] is None
    assert body["is_default"] is False
