"""No existing share is silently lost when objects move into teams: a user holding a
grant on an object of a team it is not a member of joins that team as a `guest` (which
carries no object permission: it sees exactly what is shared with it), never as its
default team. Such shares are then seen with `X-Team-ID` of the object's team."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import migrations

# (app, grant model, object model): every user grant table of a model with a team.
GRANTS = [
    ("items", "ItemUserObjectPermission"),
    ("tags", "TagUserObjectPermission"),
    ("projects", "ProjectUserObjectPermission"),
    ("chat", "ChatConversationUserObjectPermission"),
]


def add_guests(apps: Any, schema_editor: Any) -> None:
    TeamRole = apps.get_model("teams", "TeamRole")
    Membership = apps.get_model("teams", "Membership")
    db = schema_editor.connection.alias
    wanted: set[tuple[Any, Any]] = set()
    for app_label, model_name in GRANTS:
        grants = apps.get_model(app_label, model_name).objects.using(db)
        wanted |= set(
            grants.values_list("user_id", "content_object__team_id").distinct().iterator()
        )
    members = set(Membership.objects.using(db).values_list("user_id", "team_id").iterator())
    missing = sorted(wanted - members, key=str)
    guests = dict(
        TeamRole.objects.using(db)
        .filter(key="guest", team_id__in={team_id for _user, team_id in missing})
        .values_list("team_id", "pk")
    )
    Membership.objects.using(db).bulk_create(
        Membership(
            id=uuid.uuid4(), user_id=user_id, team_id=team_id, role_id=guests[team_id]
        )
        for user_id, team_id in missing
    )


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0007_guest_role"),
        ("items", "0004_team"),
        ("tags", "0004_team"),
        ("projects", "0004_team"),
        ("chat", "0005_team"),
    ]

    # Reversing keeps the memberships: they are harmless without the team column.
    operations = [migrations.RunPython(add_guests, migrations.RunPython.noop)]
