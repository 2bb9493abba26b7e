"""Issue 13, phase 2: every project belongs to a team (docs/teams.md). Existing rows go
to its owner's personal team (teams 0003 made sure every user has one); the column is then
made non-null, with an index for a team's list in its default order."""

from django.db import migrations, models
import django.db.models.deletion

FILL = """UPDATE projects_project AS o SET team_id = t.id FROM teams_team AS t WHERE t.owner_id = o.owner_id AND t.is_personal AND o.team_id IS NULL"""


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0003_owner_grant"),
        ("teams", "0007_guest_role"),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="team",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="projects",
                to="teams.team",
            ),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="project",
            name="team",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="projects",
                to="teams.team",
            ),
        ),
        migrations.AddIndex(
            model_name="project",
            index=models.Index(fields=["team", "-created_at", "id"], name="projects_team_recent"),
        ),
    ]
