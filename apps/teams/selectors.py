"""Reads of teams, scoped to the asking user: a team it does not belong to is absent
(404), never forbidden, so ids reveal nothing. Superusers see every team."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404

from apps.teams.models import Invitation, Membership, Team, TeamRole
from apps.users.models import User


def team_list(*, user: User) -> QuerySet[Team]:
    """The teams `user` belongs to (for everyone, superusers included: a list of every
    team belongs in the admin), with the member count."""
    return (
        Team.objects.filter(memberships__user=user)
        .select_related("owner")
        .annotate(member_count=Count("memberships", distinct=True))
        .order_by("-is_personal", "name", "id")
    )


def membership_of(*, team: Team, user: User) -> Membership | None:
    return Membership.objects.select_related("role").filter(team=team, user_id=user.pk).first()


def team_get(*, user: User, team_id: Any) -> Team:
    """The team with `team_id` if `user` may see it (a member, or a superuser), else 404."""
    try:
        pk = uuid.UUID(str(team_id))
    except ValueError:
        raise Http404 from None
    teams = Team.objects.select_related("owner").annotate(
        member_count=Count("memberships", distinct=True)
    )
    if not user.is_superuser:
        teams = teams.filter(memberships__user=user)
    team = teams.filter(pk=pk).first()
    if team is None:
        raise Http404
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
