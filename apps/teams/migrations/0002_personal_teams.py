"""Every existing user gets its personal team (signup makes it for new ones): the team,
its four default roles, and the user's owner membership, which becomes its default.

Written with the historical models in bulk, so it costs a few statements per thousand
users. The names and descriptions are copied here on purpose: a migration must not
change when the app's constants do."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import migrations
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
]
BATCH = 1000


def create_personal_teams(apps: Any, schema_editor: Any) -> None:
    User = apps.get_model("users", "User")
    Team = apps.get_model("teams", "Team")
    TeamRole = apps.get_model("teams", "TeamRole")
    Membership = apps.get_model("teams", "Membership")
    db = schema_editor.connection.alias

    taken = set(Team.objects.using(db).values_list("slug", flat=True))
    users = (
        User.objects.using(db)
        .exclude(pk__in=Team.objects.using(db).filter(is_personal=True).values("owner_id"))
        .order_by("pk")
        .values_list("pk", "email", "full_name")
    )
    pending = list(users)
    with_default = set(
        Membership.objects.using(db).filter(is_default=True).values_list("user_id", flat=True)
    )
    for start in range(0, len(pending), BATCH):
        teams, roles, memberships = [], [], []
        for pk, email, full_name in pending[start : start + BATCH]:
            name = f"{full_name or email.partition('@')[0]}'s team"[:100]
            slug = f"{slugify(name)[:40].strip('-') or 'team'}-{pk.hex[:8]}"
            while slug in taken:
                slug = f"{slug[:40]}-{uuid.uuid4().hex[:8]}"
            taken.add(slug)
            team = Team(id=uuid.uuid4(), name=name, slug=slug, owner_id=pk, is_personal=True)
            teams.append(team)
            team_roles = [
                TeamRole(id=uuid.uuid4(), team=team, key=key, name=label, description=text)
                for key, label, text in ROLES
            ]
            roles.extend(team_roles)
            memberships.append(
                Membership(
                    id=uuid.uuid4(),
                    team=team,
                    user_id=pk,
                    role=team_roles[0],
                    is_default=pk not in with_default,
                )
            )
        Team.objects.using(db).bulk_create(teams)
        TeamRole.objects.using(db).bulk_create(roles)
        Membership.objects.using(db).bulk_create(memberships)


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0001_initial"),
    ]

    # Reversing leaves the teams: 0001's reversal drops them all anyway.
    operations = [migrations.RunPython(create_personal_teams, migrations.RunPython.noop)]
