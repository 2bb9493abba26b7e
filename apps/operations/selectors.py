"""Reads for the control room and the activity API.

The control room shows a card only to staff whose permissions let them view what it
counts, and counts models of apps that may not be installed yet (projects, chat) through
lazy look-ups, so their numbers appear as soon as those apps land.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from auditlog.models import LogEntry
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import BigIntegerField, Count, Model, OuterRef, QuerySet, Subquery, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.template.defaultfilters import pluralize
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_celery_results.models import TaskResult

from apps.operations.models import UsageCounter, UsageEvent
from apps.users.models import User
from launch.replicas import replica_reads

FAILED = "failed"


@dataclass
class Stat:
    label: str
    value: int
    url: str = ""
    alert: bool = False


@dataclass
class Line:
    text: str
    detail: str = ""
    url: str = ""


@dataclass
class Listing:
    """A short named list on a card (the largest teams, the latest invitations)."""

    title: str
    lines: list[Line] = field(default_factory=list)


@dataclass
class Card:
    title: str
    stats: list[Stat] = field(default_factory=list)
    listings: list[Listing] = field(default_factory=list)


def _model(label: str) -> type[Model] | None:
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def _may_view(user: User, model: type[Model]) -> bool:
    opts = model._meta
    return bool(user.has_perm(f"{opts.app_label}.view_{opts.model_name}"))


def _has_field(model: type[Model], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def change_url(obj: Model) -> str:
    opts = obj._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return ""


def changelist_url(model: type[Model], query: str = "") -> str:
    opts = model._meta
    try:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    except NoReverseMatch:  # not registered in the admin
        return ""
    return f"{url}?{query}" if query else url


def _users(now: datetime) -> Card:
    active = User.objects.filter(is_active=True).count()
    week_ago = now - timedelta(days=7)
    new = User.objects.filter(date_joined__gte=week_ago).count()
    since = week_ago.date().isoformat()
    return Card(
        "Users",
        [
            Stat("active", active, changelist_url(User, "is_active__exact=1")),
            Stat("new this week", new, changelist_url(User, f"date_joined__gte={since}")),
        ],
    )


def _projects(project: type[Model]) -> Card:
    count = project._default_manager.count()
    return Card("Projects", [Stat("projects", count, changelist_url(project))])


def _documents(document: type[Model]) -> Card:
    if not _has_field(document, "status"):
        count = document._default_manager.count()
        return Card("Documents", [Stat("documents", count, changelist_url(document))])
    rows = document._default_manager.values("status").annotate(n=Count("pk")).order_by("status")
    stats = [
        Stat(
            str(row["status"]),
            int(row["n"]),
            changelist_url(document, f"status__exact={row['status']}"),
            alert=row["status"] == FAILED and row["n"] > 0,
        )
        for row in rows
    ]
    if not any(stat.label == FAILED for stat in stats):
        stats.append(Stat(FAILED, 0, changelist_url(document, f"status__exact={FAILED}")))
    return Card("Documents by status", stats)


TEAMS_LISTED = 5


def _teams() -> Card:
    from apps.teams.models import Invitation, Membership, Team
    from apps.teams.services.invitations import invitation_state, pending

    members = (
        Membership.objects.filter(team=OuterRef("pk"))
        .order_by()
        .values("team")
        .annotate(n=Count("pk"))
        .values("n")
    )
    largest = Team.objects.annotate(
        member_count=Coalesce(Subquery(members), 0, output_field=BigIntegerField())
    ).order_by("-member_count", "name", "id")[:TEAMS_LISTED]
    invitations = Invitation.objects.select_related("team", "role").order_by("-created_at", "-id")[
        :TEAMS_LISTED
    ]
    pending_count = pending(Invitation.objects.all()).count()
    return Card(
        "Teams",
        [
            Stat("teams", Team.objects.count(), changelist_url(Team)),
            Stat(
                "shared teams",
                Team.objects.filter(is_personal=False).count(),
                changelist_url(Team, "is_personal__exact=0"),
            ),
            Stat("pending invitations", pending_count, changelist_url(Invitation)),
        ],
        [
            Listing(
                "Largest teams",
                [
                    Line(
                        team.name,
                        f"{team.member_count} member{pluralize(team.member_count)}",
                        change_url(team),
                    )
                    for team in largest
                ],
            ),
            Listing(
                "Recent invitations",
                [
                    Line(
                        invitation.email,
                        f"{invitation.team.name}, {invitation.role.name}, "
                        f"{invitation_state(invitation)}",
                        change_url(invitation),
                    )
                    for invitation in invitations
                ],
            ),
        ],
    )


def _tasks(now: datetime) -> Card:
    since = now - timedelta(hours=24)
    failed = TaskResult.objects.filter(status="FAILURE", date_done__gte=since).count()
    query = f"status__exact=FAILURE&date_done__gte={since.isoformat(timespec='seconds')}"
    return Card(
        "Tasks",
        [
            Stat("failed in the last 24 h", failed, changelist_url(TaskResult, query), failed > 0),
            Stat(
                "all failed",
                TaskResult.objects.filter(status="FAILURE").count(),
                changelist_url(TaskResult, "status__exact=FAILURE"),
            ),
        ],
    )


def _chat_messages(since: datetime) -> int | None:
    message = _model("chat.ChatMessage")
    if message is None or not _has_field(message, "created_at"):
        return None
    return message._default_manager.filter(created_at__gte=since).count()


def usage_total(*, name: str, since: date) -> int:
    """Uses of `name` from the start of day `since` (TIME_ZONE) on: the rolled-up daily
    counters plus the events not rolled up yet. One statement, so it reads one snapshot:
    a roll-up committing meanwhile moves events into counters without being seen twice
    or missed."""
    start = timezone.make_aware(datetime.combine(since, time.min))
    pending = (
        UsageEvent.objects.filter(name=name, created_at__gte=start)
        .order_by()
        .values("name")
        .annotate(n=Count("pk"))
        .values("n")
    )
    total = UsageCounter.objects.filter(name=name, day__gte=since).aggregate(
        n=Coalesce(Sum("count"), 0, output_field=BigIntegerField())
        + Coalesce(Subquery(pending), 0, output_field=BigIntegerField())
    )["n"]
    return int(total)


def _volume(now: datetime) -> Card:
    week_ago = now - timedelta(days=7)
    today = timezone.localdate(now)
    stats = [
        Stat("searches today", usage_total(name="search", since=today)),
        Stat("searches in 7 days", usage_total(name="search", since=today - timedelta(days=6))),
    ]
    for label, since in (
        ("chat messages in 24 h", now - timedelta(hours=24)),
        ("chat messages in 7 days", week_ago),
    ):
        count = _chat_messages(since)
        if count is not None:
            stats.append(Stat(label, count))
    activity = LogEntry.objects.filter(timestamp__gte=now - timedelta(hours=24)).count()
    stats.append(Stat("changes in 24 h", activity, changelist_url(LogEntry)))
    return Card("Volume", stats)


def control_room(*, user: User) -> list[Card]:
    """The control-room cards `user` may see, with live numbers (from a read replica
    when one is configured: counts a moment old are fine here)."""
    with replica_reads():
        return _cards(user)


def _cards(user: User) -> list[Card]:
    now = timezone.now()
    cards = []
    if _may_view(user, User):
        cards.append(_users(now))
    project, document = _model("projects.Project"), _model("projects.Document")
    if project is not None and _may_view(user, project):
        cards.append(_projects(project))
    if document is not None and _may_view(user, document):
        cards.append(_documents(document))
    team = _model("teams.Team")
    if team is not None and _may_view(user, team):
        cards.append(_teams())
    if _may_view(user, TaskResult):
        cards.append(_tasks(now))
    if _may_view(user, LogEntry):
        cards.append(_volume(now))
    return cards


def activity_list() -> QuerySet[LogEntry]:
    """Activity entries, newest first (the API restricts it to superusers)."""
    return LogEntry.objects.select_related("content_type").order_by("-timestamp", "-pk")


def team_activity_list(*, team_id: object) -> QuerySet[LogEntry]:
    """The entries of one team (`additional_data["team"]`), newest first. The filter is
    written as `additional_data ->> 'team'` so that it matches the expression index of
    migration operations.0003, which also serves the newest-first order."""
    return (
        LogEntry.objects.alias(team=KeyTextTransform("team", "additional_data"))
        .filter(team=str(team_id))
        .select_related("content_type")
        .order_by("-timestamp", "-pk")
    )


CHART_DAYS = 30


@dataclass
class UsageDashboard:
    """The control room's money section: chart data (JSON-ready) and this month's top
    spenders."""

    charts: dict[str, Any]
    top_teams: list[dict[str, Any]]
    top_users: list[dict[str, Any]]
    month: str
    since: date


def _plottable(series: dict[str, Any]) -> dict[str, Any]:
    """Costs as floats for the chart (the figures shown as text stay decimals)."""
    return {
        "days": series["days"],
        "series": [
            {**entry, "cost": [float(value) for value in entry["cost"]]}
            for entry in series["series"]
        ],
    }


def usage_dashboard(*, user: User) -> UsageDashboard | None:
    """Tokens and cost per day over the last CHART_DAYS days by model and by team, and
    the top teams and users by cost this month; None when `user` may not view the usage
    ledger or it is not installed. Reads roll-ups plus raw rows (apps.usage.selectors)."""
    call = _model("usage.ModelCall")
    if call is None or not _may_view(user, call):
        return None
    from apps.usage.selectors import usage_daily_series, usage_top

    today = timezone.localdate()
    since = today - timedelta(days=CHART_DAYS - 1)
    month = today.replace(day=1)
    with replica_reads():
        charts = {
            by: _plottable(usage_daily_series(start=since, end=today, by=by))
            for by in ("model", "team")
        }
        top_teams = usage_top(start=month, end=today, by="team")
        top_users = usage_top(start=month, end=today, by="user")
    return UsageDashboard(
        charts=charts,
        top_teams=top_teams,
        top_users=top_users,
        month=f"{month:%B %Y}",
        since=since,
    )
