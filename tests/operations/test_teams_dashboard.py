"""The control room's teams card, and the shared team `seed_demo` makes."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from apps.rbac.rights import Refused
from apps.teams.models import Invitation, Membership, Team, TeamRole
from apps.teams.services import invitation_create, member_add, team_create
from apps.teams.services.invitations import invitation_state
from apps.users.models import User
from launch.errors import NotFound

pytestmark = pytest.mark.django_db


def teams_card(response):
    (card,) = [card for card in response.context["control_room"] if card.title == "Teams"]
    return card


def test_the_control_room_shows_teams_the_largest_and_recent_invitations(admin_client, make_user):
    founder = make_user()
    big = team_create(actor=founder, name="Big")
    small = team_create(actor=founder, name="Small")
    for _ in range(3):
        member_add(
            actor=None,
            team=big,
            user=make_user(),
            role=TeamRole.objects.get(team=big, key="member"),
        )
    invitation_create(
        actor=founder,
        team=small,
        email="grace@example.com",
        role=TeamRole.objects.get(team=small, key="viewer"),
    )

    response = admin_client.get("/admin/")
    assert response.status_code == 200
    card = teams_card(response)
    numbers = {stat.label: stat.value for stat in card.stats}
    assert numbers["teams"] == Team.objects.count()
    assert numbers["shared teams"] == 2
    assert numbers["pending invitations"] == 1
    listings = {listing.title: listing.lines for listing in card.listings}
    largest = listings["Largest teams"]
    assert largest[0].text == "Big"
    assert largest[0].detail == "4 members"
    assert largest[0].url == f"/admin/teams/team/{big.pk}/change/"
    (recent,) = listings["Recent invitations"]
    assert recent.text == "grace@example.com"
    assert recent.detail == "Small, Viewer, pending"
    page = response.content.decode()
    assert "Largest teams" in page
    assert "grace@example.com" in page


def test_staff_without_the_teams_permission_see_no_teams_card(staff_with):
    client, _user = staff_with("users.view_user")
    response = client.get("/admin/")
    assert "Teams" not in [card.title for card in response.context["control_room"]]


def test_seed_demo_makes_a_shared_team_with_every_role_and_an_invitation():
    call_command("seed_demo", stdout=StringIO())
    team = Team.objects.get(slug="demo-co")
    assert team.name == "Demo Co"
    assert not team.is_personal
    roles = dict(Membership.objects.filter(team=team).values_list("user__email", "role__key"))
    assert roles == {
        "alice@demo.example.com": "owner",
        "dana@demo.example.com": "admin",
        "bob@demo.example.com": "member",
        "carol@demo.example.com": "viewer",
    }
    # Their personal teams stay their default ones.
    assert not Membership.objects.filter(team=team, is_default=True).exists()
    (invited,) = Invitation.objects.filter(team=team)
    assert invited.email == "erin@demo.example.com"
    assert invitation_state(invited) == "pending"
    assert not User.objects.filter(email=invited.email).exists()

    call_command("seed_demo", stdout=StringIO())
    assert Team.objects.filter(name="Demo Co").count() == 1
    assert Membership.objects.filter(team=team).count() == 4
    assert Invitation.objects.filter(team=team).count() == 1


def test_a_stranger_cannot_add_members_without_an_invitation(make_user):
    founder = make_user()
    team = team_create(actor=founder, name="Acme")
    role = TeamRole.objects.get(team=team, key="member")
    with pytest.raises((Refused, NotFound)):
        member_add(actor=make_user(), team=team, user=make_user(), role=role)
    assert Membership.objects.filter(team=team).count() == 1
