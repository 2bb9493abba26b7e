"""Phase 2 of teams (docs/teams.md): every team gets the fifth default role, `guest`
(`view_team` only: it sees what is shared with it), and every user that still has no
personal team gets one (accounts made by `createsuperuser` or fixtures since 0002), so
the objects' migrations can put each row in its owner's personal team.

Names and descriptions are copied on purpose: a migration must not change when the
app's constants do."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import migrations, models
from django.utils.text import slugify

ROLES = [
    ("owner", "Owner", "Everything, including deleting the team and naming other owners."),
    (
        "admin",
        "Admin",
        "Manage the team, its members, roles and invitations, and work on its objects.",
    ),
    ("member", "Member", "Create, view, change, delete and share the team's objects."),
    ("viewer", "Viewer", "View the team's objects."),
    ("guest", "Guest", "See only what is shared with you (an outside collaborator)."),
]
GUEST = ROLES[-1]


def add_guest_roles(apps: Any, schema_editor: Any) -> None:
    Team = apps.get_model("teams", "Team")
    TeamRole = apps.get_model("teams", "TeamRole")
    db = schema_editor.connection.alias
    key, name, description = GUEST
    with_guest = TeamRole.objects.using(db).filter(key=key).values("team_id")
    taken = set(
        TeamRole.objects.using(db)
        .filter(name__iexact=name)
        .values_list("team_id", flat=True)
    )
    TeamRole.objects.using(db).bulk_create(
        TeamRole(
            id=uuid.uuid4(),
            team_id=team_id,
            key=key,
            # A custom role may already be called "Guest" (names are unique per team).
            name=name if team_id not in taken else f"{name} (default)",
            description=description,
        )
        for team_id in Team.objects.using(db)
        .exclude(pk__in=with_guest)
        .values_list("pk", flat=True)
        .iterator()
    )


def create_missing_personal_teams(apps: Any, schema_editor: Any) -> None:
    User = apps.get_model("users", "User")
    Team = apps.get_model("teams", "Team")
    TeamRole = apps.get_model("teams", "TeamRole")
    Membership = apps.get_model("teams", "Membership")
    db = schema_editor.connection.alias
    taken = set(Team.objects.using(db).values_list("slug", flat=True))
    with_default = set(
        Membership.objects.using(db).filter(is_default=True).values_list("user_id", flat=True)
    )
    users = (
        User.objects.using(db)
        .exclude(pk__in=Team.objects.using(db).filter(is_personal=True).values("owner_id"))
        .order_by("pk")
        .values_list("pk", "email", "full_name")
    )
    for pk, email, full_name in users:
        name = f"{full_name or email.partition('@')[0]}'s team"[:100]
        slug = f"{slugify(name)[:40].strip('-') or 'team'}-{pk.hex[:8]}"
        while slug in taken:
            slug = f"{slug[:40]}-{uuid.uuid4().hex[:8]}"
        taken.add(slug)
        team = Team.objects.using(db).create(
            id=uuid.uuid4(), name=name, slug=slug, owner_id=pk, is_personal=True
        )
        roles = [
            TeamRole.objects.using(db).create(
                id=uuid.uuid4(), team=team, key=key, name=label, description=text
            )
            for key, label, text in ROLES
        ]
        Membership.objects.using(db).create(
            id=uuid.uuid4(), team=team, user_id=pk, role=roles[0], is_default=pk not in with_default
        )


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0006_team_plan"),
    ]

    operations = [
        migrations.AlterField(
            model_name="teamrole",
            name="key",
            field=models.CharField(
                blank=True,
                choices=[
                    ("owner", "owner"),
                    ("admin", "admin"),
                    ("member", "member"),
                    ("viewer", "viewer"),
                    ("guest", "guest"),
                ],
                default="",
                help_text="Set on the default roles, whose permissions are fixed.",
                max_length=20,
            ),
        ),
        migrations.RunPython(add_guest_roles, migrations.RunPython.noop),
        migrations.RunPython(create_missing_personal_teams, migrations.RunPython.noop),
    ]
