"""Team pages in the admin: counts, members/roles/invitations inline, writes through the
services."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from apps.plans.models import Plan
from apps.teams.models import Invitation, Membership, Team, TeamRole
from apps.usage.models import ModelCall, UsageDay
from tests.teams.conftest import invite

pytestmark = pytest.mark.django_db


def test_changelist_counts_members_roles_and_pending_invitations(admin_client, team, join, account):
    join(team, account(), "member")
    invite(team, "pending@example.com")
    response = admin_client.get("/admin/teams/team/?q=Acme")
    assert response.status_code == 200
    row = next(t for t in response.context["cl"].result_list if t.pk == team.pk)
    assert (row.member_count, row.role_count, row.pending_count) == (2, 5, 1)


def test_change_page_shows_members_roles_and_invitations(admin_client, owner, team):
    invite(team, "pending@example.com")
    page = admin_client.get(f"/admin/teams/team/{team.pk}/change/").content.decode()
    assert owner.email in page
    assert "teams.manage_members" in page  # the admin role's permissions, inline
    assert "pending@example.com" in page


def test_adding_a_team_makes_the_staff_user_its_owner(admin_client):
    response = admin_client.post(
        "/admin/teams/team/add/", {"name": "Staff team", "slug": "staff-team"}
    )
    assert response.status_code == 302
    team = Team.objects.get(slug="staff-team")
    membership = Membership.objects.get(team=team)
    assert membership.role.key == "owner"
    assert membership.user.is_superuser
    assert TeamRole.objects.filter(team=team).count() == 5


def test_personal_teams_cannot_be_deleted_from_the_admin(admin_client, owner):
    personal = Team.objects.get(owner=owner, is_personal=True)
    assert admin_client.get(f"/admin/teams/team/{personal.pk}/delete/").status_code == 403


def test_deleting_a_team_goes_through_the_service(admin_client, team):
    response = admin_client.post(f"/admin/teams/team/{team.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Team.objects.filter(pk=team.pk).exists()


def test_revoke_action(admin_client, team):
    invite(team, "pending@example.com")
    invitation = Invitation.objects.get(team=team)
    response = admin_client.post(
        "/admin/teams/invitation/",
        {"action": "revoke", ACTION_CHECKBOX_NAME: [str(invitation.pk)]},
    )
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_renaming_in_the_admin_goes_through_the_service(admin_client, team):
    url = f"/admin/teams/team/{team.pk}/change/"
    page = admin_client.get(url)
    pro = Plan.objects.create(key="pro", name="Pro")
    data = {"name": "Acme Renamed", "slug": team.slug, "plan": str(pro.pk)}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({f"{management.prefix}-{k}": v for k, v in management.initial.items()})
        for form in inline.formset.forms:
            data.update({f"{form.prefix}-{k}": v for k, v in form.initial.items() if k == "id"})
    response = admin_client.post(url, data)
    assert response.status_code == 302
    team.refresh_from_db()
    assert (team.name, team.plan) == ("Acme Renamed", pro)


def test_change_page_shows_object_counts_and_storage(admin_client, owner, team):
    from apps.items.services import item_create
    from tests.projects.conftest import create_project, upload

    item_create(user=owner, title="one", team=team)
    document = upload(project=create_project(owner=owner, team=team))
    page = admin_client.get(f"/admin/teams/team/{team.pk}/change/").content.decode()
    assert "1 items, 0 tags, 1 projects, 1 documents, 0 conversations" in page
    assert filesizeformat(document.file_size) in page


def _call(team, *, when, tokens, cost, rolled_up=False):
    ModelCall.objects.create(
        team=team,
        created_at=when,
        purpose="answer",
        provider="openai",
        model="m-1",
        input_tokens=tokens[0],
        output_tokens=tokens[1],
        status="ok",
        cost=Decimal(cost),
        rolled_up=rolled_up,
    )


def _day(team, *, day, tokens, cost):
    UsageDay.objects.create(
        team=team,
        day=day,
        provider="openai",
        model="m-1",
        purpose="answer",
        calls=3,
        input_tokens=tokens[0],
        output_tokens=tokens[1],
        cost=Decimal(cost),
        rolled_up_at=timezone.now(),
    )


def test_change_page_shows_the_teams_usage_this_month_from_roll_ups_and_raw_rows(
    admin_client, owner, team
):
    first = timezone.localdate().replace(day=1)
    now = timezone.now()
    _call(team, when=now, tokens=(100, 20), cost="0.5")  # raw, not rolled up yet
    _call(team, when=now, tokens=(7, 7), cost="9", rolled_up=True)  # counted in its day
    _day(team, day=first, tokens=(1000, 200), cost="1.25")  # a roll-up this month
    _day(team, day=first - datetime.timedelta(days=1), tokens=(5, 5), cost="7")  # last month
    other = Team.objects.get(owner=owner, is_personal=True)
    _call(other, when=now, tokens=(50, 50), cost="3")  # another team's
    page = admin_client.get(f"/admin/teams/team/{team.pk}/change/").content.decode()
    assert "usage this month" in page.lower()
    assert "1320 tokens (1100 in, 220 out) in 4 calls; cost 1.7500" in page
