from __future__ import annotations

from django.db.models import QuerySet

from apps.apikeys.models import ApiKey
from apps.teams.models import Team
from apps.users.models import User


def apikey_list(*, user: User) -> QuerySet[ApiKey]:
    """`user`'s own personal keys, newest first, revoked and expired ones included (the
    team keys it made are listed with their team)."""
    return ApiKey.objects.filter(user=user, team__isnull=True).order_by("-created_at", "id")


def team_apikey_list(*, team: Team) -> QuerySet[ApiKey]:
    """`team`'s keys, whoever made them, newest first, revoked and expired included."""
    return ApiKey.objects.filter(team=team).select_related("user").order_by("-created_at", "id")
