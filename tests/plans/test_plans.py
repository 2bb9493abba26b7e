"""Plans: the default plan from the migration, the plan a team shows, staff changing plans
in the admin (effective at the next request), and the migration of `Team.plan`."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from apps.plans.models import Plan
from apps.plans.quotas import plan_of
from apps.teams.models import Team
from apps.teams.services import team_ensure_personal
from tests.chat.conftest import create_project
from tests.plans.conftest import upload

pytestmark = pytest.mark.django_db


def test_the_migration_creates_the_default_plan_with_limits(member, settings):
    Plan.objects.filter(key="free").delete()
    migration = importlib.import_module("apps.plans.migrations.0002_default_plan")
    migration.create_free(apps, None)
    free = Plan.objects.get(key=settings.USAGE_DEFAULT_PLAN)
    assert settings.USAGE_DEFAULT_PLAN == "free"
    assert all(
        value is not None and value > 0
        for value in (
            free.max_documents,
            free.max_storage_bytes,
            free.tokens_per_month,
            free.chat_messages_per_day,
            free.api_key_requests_per_minute,
        )
    )
    team = team_ensure_personal(user=member)
    assert team.plan is None
    assert plan_of(team) == free


def test_the_setting_names_the_default_plan(member, settings):
    team = team_ensure_personal(user=member)
    gold = Plan.objects.create(key="gold", name="Gold")
    settings.USAGE_DEFAULT_PLAN = "gold"
    assert plan_of(team) == gold
    settings.USAGE_DEFAULT_PLAN = "no-such-plan"
    assert plan_of(team) is None  # logged; no limits rather than every request refused


def test_the_teams_api_shows_the_plans_key(client_for, member):
    team = team_ensure_personal(user=member)
    client = client_for(member)
    assert client.get(f"/api/v1/teams/{team.pk}").json()["plan"] == "free"
    team.plan = Plan.objects.create(key="pro", name="Pro")
    team.save()
    assert client.get(f"/api/v1/teams/{team.pk}").json()["plan"] == "pro"


def _team_form(admin_client, team: Team, **changes: str) -> dict[str, str]:
    page = admin_client.get(f"/admin/teams/team/{team.pk}/change/")
    data = {"name": team.name, "slug": team.slug, "plan": "", **changes}
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data.update({f"{management.prefix}-{k}": v for k, v in management.initial.items()})
        for form in inline.formset.forms:
            data.update({f"{form.prefix}-{k}": v for k, v in form.initial.items() if k == "id"})
    return data


def test_staff_change_a_teams_plan_in_the_admin_and_it_applies_at_once(
    admin_client, client_for, member
):
    team = team_ensure_personal(user=member)
    project = create_project(owner=member)
    tiny = Plan.objects.create(key="tiny", name="Tiny", max_documents=1)
    client = client_for(member)
    assert upload(client, project).status_code == 201
    assert upload(client, project).status_code == 201  # free: 100 documents

    url = f"/admin/teams/team/{team.pk}/change/"
    response = admin_client.post(url, _team_form(admin_client, team, plan=str(tiny.pk)))
    assert response.status_code == 302
    team.refresh_from_db()
    assert team.plan == tiny
    refused = upload(client, project)
    assert (refused.status_code, refused.json()["limit"]) == (403, 1)

    # A plan's limit changed in the admin applies at the next request too.
    data = {
        "key": "tiny",
        "name": "Tiny",
        "max_documents": "5",
        "max_storage_bytes": "",
        "tokens_per_month": "",
        "chat_messages_per_day": "",
        "api_key_requests_per_minute": "",
    }
    response = admin_client.post(f"/admin/plans/plan/{tiny.pk}/change/", data)
    assert response.status_code == 302
    assert upload(client, project).status_code == 201

    # Back to the default plan: the plan field left empty.
    admin_client.post(url, _team_form(admin_client, team))
    team.refresh_from_db()
    assert team.plan is None


def test_the_plan_admin_lists_plans_and_keeps_the_default_plan(admin_client):
    page = admin_client.get("/admin/plans/plan/")
    assert page.status_code == 200
    assert b"free" in page.content
    free = Plan.objects.get(key="free")
    assert admin_client.get(f"/admin/plans/plan/{free.pk}/delete/").status_code == 403


def test_only_superusers_change_a_plan_through_the_service(member):
    from apps.rbac.rights import Refused
    from apps.teams.services import team_update

    team = team_ensure_personal(user=member)
    with pytest.raises(Refused):
        team_update(actor=member, team=team, plan=Plan.objects.get(key="free"))


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_each_teams_plan_by_key(make_user):
    call_command("migrate", "teams", "0002", verbosity=0)
    try:
        with connection.cursor() as cursor:
            for slug, plan in (("a-free", "free"), ("b-pro", "pro"), ("c-pro", "pro")):
                cursor.execute(
                    "INSERT INTO teams_team (id, name, slug, is_personal, plan, created_at) "
                    "VALUES (gen_random_uuid(), %s, %s, false, %s, now())",
                    [slug, slug, plan],
                )
    finally:
        call_command("migrate", verbosity=0)
    plans = dict(
        Team.objects.filter(slug__in=["a-free", "b-pro", "c-pro"]).values_list("slug", "plan__key")
    )
    assert plans == {"a-free": "free", "b-pro": "pro", "c-pro": "pro"}
    pro = Plan.objects.get(key="pro")
    assert pro.max_documents is None
    assert pro.tokens_per_month is None
    Team.objects.filter(slug__in=["a-free", "b-pro", "c-pro"]).delete()
    pro.delete()
