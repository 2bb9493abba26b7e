"""The data migration that gives every existing user its personal team."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection

from apps.teams.models import Membership, Team, TeamRole

pytestmark = pytest.mark.django_db

migration = importlib.import_module("apps.teams.migrations.0002_personal_teams")
guests = importlib.import_module("apps.teams.migrations.0007_guest_role")


def run() -> None:
    editor = SimpleNamespace(connection=connection)
    migration.create_personal_teams(apps, editor)
    guests.add_guest_roles(apps, editor)  # phase 2's fifth default role


def test_existing_users_get_a_personal_team_once(make_user, account):
    old = [make_user(full_name="Old Timer"), make_user()]  # made before teams existed
    signed_up = account()  # already has one
    run()
    for user in old:
        team = Team.objects.get(owner=user, is_personal=True)
        membership = Membership.objects.get(team=team)
        assert membership.user_id == user.pk
        assert membership.role.key == "owner"
        assert membership.is_default
        keys = sorted(TeamRole.objects.filter(team=team).values_list("key", flat=True))
        assert keys == ["admin", "guest", "member", "owner", "viewer"]
    assert Team.objects.get(owner=old[0]).name == "Old Timer's team"
    assert Team.objects.filter(owner=signed_up).count() == 1
    run()  # idempotent
    assert Team.objects.filter(owner__in=old).count() == 2


def test_the_migration_and_signup_make_the_same_roles(make_user, account):
    user = make_user()
    run()
    migrated = Team.objects.get(owner=user)
    signed = Team.objects.get(owner=account())
    shape = ("key", "name", "description")
    assert sorted(TeamRole.objects.filter(team=migrated).values_list(*shape)) == sorted(
        TeamRole.objects.filter(team=signed).values_list(*shape)
    )


@pytest.mark.django_db(transaction=True)
def test_the_real_migration_runs_on_historical_models():
    from django.core.management import call_command

    from apps.users.models import User

    call_command("migrate", "teams", "0001", verbosity=0)
    try:
        users = [User.objects.create_user(email=f"before{i}@example.com") for i in range(3)]
        call_command("migrate", "teams", "0002", verbosity=0)
    finally:
        # Every app forward: unapplying teams 0002 also unapplied what depends on it
        # (the usage ledger), which later tests need.
        call_command("migrate", verbosity=0)
    for user in users:
        membership = Membership.objects.select_related("team", "role").get(user=user)
        assert membership.team.is_personal
        assert membership.role.key == "owner"
        assert membership.is_default
    assert len({m.team.slug for m in Membership.objects.select_related("team")}) == 3


shares = importlib.import_module("apps.teams.migrations.0008_guest_shares")


def test_a_share_across_teams_makes_the_grantee_a_guest_of_the_objects_team(account, client_for):
    from apps.items.services import item_create
    from launch.permissions import share_with_user

    owner, friend = account(), account()
    item = item_create(user=owner, title="shared before teams confined")
    share_with_user(item, friend, ["view"])  # the primitive checks no team, as before
    shares.add_guests(apps, SimpleNamespace(connection=connection))
    membership = Membership.objects.select_related("role").get(user=friend, team=item.team)
    assert membership.role.key == "guest"
    assert not membership.is_default  # its personal team stays its default
    assert client_for(friend, team=item.team).get(f"/api/v1/items/{item.pk}").status_code == 200
    shares.add_guests(apps, SimpleNamespace(connection=connection))  # idempotent
    assert Membership.objects.filter(user=friend).count() == 2
