"""A foreign key to Plan beside `Team.plan`'s key, filled in by 0004 and swapped in by
0005: three steps, because PostgreSQL refuses an ALTER TABLE (or the foreign key's index)
in the transaction that updated the rows."""

from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):
    dependencies = [
        ("plans", "0002_default_plan"),
        ("teams", "0003_team_activity_and_api_key_permissions"),
    ]

    operations = [
        migrations.AddField(
            model_name="team",
            name="plan_ref",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="plans.plan",
            ),
        ),
    ]
