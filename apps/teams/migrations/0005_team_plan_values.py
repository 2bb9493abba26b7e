"""Each team keeps its plan by key: a team on "free" gets the plan "free" (created by
plans 0002); any other value (set by a superuser before plans existed) gets a plan of
that key without limits, for staff to fill in."""

from django.db import migrations


def to_plans(apps, schema_editor):
    Team = apps.get_model("teams", "Team")
    Plan = apps.get_model("plans", "Plan")
    for value in Team.objects.order_by().values_list("plan", flat=True).distinct():
        key = value.strip() or "free"
        plan, _ = Plan.objects.get_or_create(key=key, defaults={"name": key.title()})
        Team.objects.filter(plan=value).update(plan_ref=plan)


def to_keys(apps, schema_editor):
    Team = apps.get_model("teams", "Team")
    for team in Team.objects.select_related("plan_ref"):
        team.plan = team.plan_ref.key if team.plan_ref else "free"
        team.save(update_fields=["plan"])


class Migration(migrations.Migration):
    dependencies = [("teams", "0004_team_plan_ref")]

    operations = [migrations.RunPython(to_plans, to_keys)]
