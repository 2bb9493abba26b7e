"""`Team.plan` is the plan's foreign key filled in by 0004 (its old key column goes)."""

from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    dependencies = [("teams", "0005_team_plan_values")]

    operations = [
        migrations.RemoveField(model_name="team", name="plan"),
        migrations.RenameField(model_name="team", old_name="plan_ref", new_name="plan"),
        migrations.AlterField(
            model_name="team",
            name="plan",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty: the default plan (USAGE_DEFAULT_PLAN).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="teams",
                to="plans.plan",
            ),
        ),
    ]
