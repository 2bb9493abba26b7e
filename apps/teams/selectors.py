"""Reads of teams, scoped to the asking user: a team it does not belong to is absent
(404), never forbidden, so ids reveal nothing. Superusers see every team."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import BooleanField, Count, Exists, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from apps.teams.models import Invitation, Membership, Team, TeamRole
from apps.users.models import User
from launch.errors import NotFound


def _with_caller(teams: QuerySet[Team], user: User) -> QuerySet[Team]:
    """Annotate the member count and the caller's own membership: its role (id, name,
    key; None where it is not a member) and whether this is its default team."""
    mine = Membership.objects.filter(team=OuterRef("pk"), user_id=user.pk)
    members = (
        Membership.objects.filter(team=OuterRef("pk"))
        .order_by()
        .values("team")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return teams.select_related("owner", "plan").annotate(
        member_count=Coalesce(Subquery(members), 0),
        my_role_id=Subquery(mine.values("role_id")[:1]),
        my_role_name=Subquery(mine.values("role__name")[:1]),
        my_role_key=Subquery(mine.values("role__key")[:1]),
        is_default=Coalesce(
            Subquery(mine.values("is_default")[:1]), Value(False), output_field=BooleanField()
        ),
    )


def team_list(*, user: User) -> QuerySet[Team]:
    """The teams `user` belongs to (for everyone, superusers included: a list of every
    team belongs in the admin)."""
    mine = Membership.objects.filter(team=OuterRef("pk"), user_id=user.pk)
    return _with_caller(Team.objects.filter(Exists(mine)), user).order_by(
        "-is_personal", "name", "id"
    )


def team_get(*, user: User, team_id: Any) -> Team:
    """The team with `team_id` if `user` may see it (a member, or a superuser), else 404."""
    try:
        pk = uuid.UUID(str(team_id))
    except ValueError:
        raise NotFound() from None
    teams = Team.objects.filter(pk=pk)
    if not user.is_superuser:
        teams = teams.filter(Exists(Membership.objects.filter(team=OuterRef("pk"), user=user)))
    team = _with_caller(teams, user).first()
    if team is None:
        raise NotFound()
    return team


def member_list(*, team: Team) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(team=team)
        .select_related("user", "role")
        .order_by("joined_at", "id")
    )


def role_list(*, team: Team) -> QuerySet[TeamRole]:
    return (
        TeamRole.objects.filter(team=team)
        .prefetch_related("permissions__content_type")
        .annotate(member_count=Count("memberships", distinct=True))
        .order_by("name", "id")
    )


def invitation_list(*, team: Team) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(team=team)
        .select_related("role", "invited_by")
        .order_by("-created_at", "id")
    )


def team_contents(*, team: Team) -> dict[str, int]:
    """What a team holds, for its admin page: its objects by kind and `storage`, the
    bytes of its documents' files (a document's team is its project's). One query."""
    from apps.chat.models import ChatConversation
    from apps.items.models import Item
    from apps.projects.models import Document, Project
    from apps.tags.models import Tag

    def count(model: Any) -> Any:
        return Subquery(
            model.objects.filter(team=team)
            .order_by()
            .values("team")
            .annotate(n=Count("pk"))
            .values("n")
        )

    documents = Document.objects.filter(project__team=team).order_by().values("project__team")
    counted = {  # annotation names must not be the reverse relations' (`items`, ...)
        "n_items": Coalesce(count(Item), 0),
        "n_tags": Coalesce(count(Tag), 0),
        "n_projects": Coalesce(count(Project), 0),
        "n_documents": Coalesce(Subquery(documents.annotate(n=Count("pk")).values("n")), 0),
        "n_conversations": Coalesce(count(ChatConversation), 0),
        "n_storage": Coalesce(Subquery(documents.annotate(n=Sum("file_size")).values("n")), 0),
    }
    values = Team.objects.filter(pk=team.pk).annotate(**counted).values_list(*counted).get()
    return {
        name.removeprefix("n_"): int(value) for name, value in zip(counted, values, strict=True)
    }
