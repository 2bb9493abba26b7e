"""Issue 13, phase 2: every tag belongs to a team (docs/teams.md). Existing rows go
to its creator's personal team (teams 0003 made sure every user has one); the column is then
made non-null, with an index for a team's list in its default order."""

from django.db import migrations, models
import django.db.models.deletion

FILL = """UPDATE tags_tag AS o SET team_id = t.id FROM teams_team AS t WHERE t.owner_id = o.created_by_id AND t.is_personal AND o.team_id IS NULL"""


class Migration(migrations.Migration):
    dependencies = [
        ("tags", "0003_owner_grant"),
        ("teams", "0007_guest_role"),
    ]

    operations = [
        migrations.AddField(
            model_name="tag",
            name="team",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="tags",
                to="teams.team",
            ),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="tag",
            name="team",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="tags",
                to="teams.team",
            ),
        ),
        migrations.AddIndex(
            model_name="tag",
            index=models.Index(fields=["team", "name", "id"], name="tags_tag_team_name"),
        ),
    ]
