"""Issue 13, phase 2: every conversation belongs to a team (docs/teams.md). Existing rows
go to their project's team (filled first), else their creator's personal team (teams 0003
made sure every user has one); the column is then made non-null, with an index for a
team's list in its default order."""

from django.db import migrations, models
import django.db.models.deletion

FILL = """UPDATE chat_chatconversation AS o SET team_id = p.team_id FROM projects_project AS p WHERE p.id = o.project_id;
UPDATE chat_chatconversation AS o SET team_id = t.id FROM teams_team AS t WHERE t.owner_id = o.user_id AND t.is_personal AND o.team_id IS NULL"""


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0004_owner_grant"),
        ("teams", "0007_guest_role"),
        ("projects", "0004_team"),
    ]

    operations = [
        migrations.AddField(
            model_name="chatconversation",
            name="team",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="conversations",
                to="teams.team",
            ),
        ),
        migrations.RunSQL(FILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="chatconversation",
            name="team",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="conversations",
                to="teams.team",
            ),
        ),
        migrations.AddIndex(
            model_name="chatconversation",
            index=models.Index(fields=["team", "-updated_at", "id"], name="chat_conv_team_recent"),
        ),
    ]
