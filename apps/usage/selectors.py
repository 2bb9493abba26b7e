"""Reading the ledger: sums over a date range, grouped, for one user or one team.

Totals come from two places read in one statement: the daily roll-ups (`UsageDay`) and
the raw rows not rolled up yet. A roll-up moves rows from one to the other in a single
statement too, so a report never counts a call twice nor misses it, however the two
interleave; `usage_summary` reads raw rows only (what the roll-up must agree with)."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any

from django.db import connections
from django.db.models import Count, Expression, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from apps.teams.models import Membership
from apps.usage.models import ModelCall, UsageDay

GROUPS = ("day", "model", "purpose", "user", "project")
ADMIN_ROLE_KEYS = ("owner", "admin")


def model_call_list(
    *,
    start: datetime.date,
    end: datetime.date,
    user_id: Any = None,
    team_id: Any = None,
) -> QuerySet[ModelCall]:
    """Calls from the start of `start` to the end of `end` (UTC days), for one user,
    one team, or (neither) everyone: the caller checks who may see what."""
    calls = ModelCall.objects.filter(
        created_at__gte=_start_of(start), created_at__lt=_start_of(end + datetime.timedelta(days=1))
    )
    if user_id is not None:
        calls = calls.filter(user_id=user_id)
    if team_id is not None:
        calls = calls.filter(team_id=team_id)
    return calls


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def usage_day_list(
    *,
    start: datetime.date,
    end: datetime.date,
    user_id: Any = None,
    team_id: Any = None,
) -> QuerySet[UsageDay]:
    """Daily roll-ups from `start` to `end` (included), like `model_call_list`."""
    days = UsageDay.objects.filter(day__gte=start, day__lte=end)
    if user_id is not None:
        days = days.filter(user_id=user_id)
    if team_id is not None:
        days = days.filter(team_id=team_id)
    return days


# A grouping key as read from a raw row and from a roll-up row.
Key = tuple[Expression | F, Expression | F]
KEYS: dict[str, dict[str, Key]] = {
    "day": {"key": (TruncDate("created_at"), F("day"))},
    "model": {"key": (F("model"), F("model")), "provider_name": (F("provider"), F("provider"))},
    "purpose": {"key": (F("purpose"), F("purpose"))},
    "user": {"key": (F("user_id"), F("user_id")), "label": (F("user__email"), F("user__email"))},
    "project": {"key": (F("project_id"), F("project_id"))},
    "team": {"key": (F("team_id"), F("team_id")), "label": (F("team__name"), F("team__name"))},
}
MEASURES = ("calls", "errors", "estimated_calls", "input_tokens", "output_tokens", "cost")


def usage_totals_by(
    *,
    start: datetime.date,
    end: datetime.date,
    keys: dict[str, Key],
    user_id: Any = None,
    team_id: Any = None,
) -> list[dict[str, Any]]:
    """Calls, errors, estimated calls, tokens and cost from `start` to `end`, one dict
    per distinct value of `keys` (name -> (raw expression, roll-up expression)),
    ordered by those keys (NULLs last): roll-ups plus raw rows not rolled up, in one
    statement (one snapshot)."""
    raw = (
        model_call_list(start=start, end=end, user_id=user_id, team_id=team_id)
        .filter(rolled_up=False)
        .order_by()
        .values(**{name: raw_expr for name, (raw_expr, _) in keys.items()})
        .annotate(
            calls=Count("id"),
            errors=Count("id", filter=~Q(status=ModelCall.Status.OK)),
            estimated_calls=Count("id", filter=Q(tokens_estimated=True)),
            input_tokens=Sum("input_tokens"),
            output_tokens=Sum("output_tokens"),
            cost=Sum("cost"),
        )
        .values_list(*keys, *MEASURES)
    )
    rolled = (
        usage_day_list(start=start, end=end, user_id=user_id, team_id=team_id)
        .order_by()
        .values(**{name: day_expr for name, (_, day_expr) in keys.items()})
        .annotate(**{measure: Sum(measure) for measure in MEASURES})
        .values_list(*keys, *MEASURES)
    )
    # The database the router picks for these reads (a replica inside `replica_reads`).
    connection = connections[raw.db]
    raw_sql, raw_params = raw.query.get_compiler(using=raw.db).as_sql()
    rolled_sql, rolled_params = rolled.query.get_compiler(using=raw.db).as_sql()
    names = list(keys)
    quote = connection.ops.quote_name
    quoted = [quote(name) for name in names]
    key_list = ", ".join(f"u.{name}" for name in quoted)
    sums = ", ".join(f"sum(u.{quote(m)})" for m in MEASURES)
    order = ", ".join(f"u.{name} ASC NULLS LAST" for name in quoted)
    columns = ", ".join(quoted + [quote(m) for m in MEASURES])
    # Only quoted names and Django's compiled SQL are interpolated; values are params.
    sql = (
        f"SELECT {key_list}, {sums} FROM (({raw_sql}) UNION ALL ({rolled_sql})) "  # noqa: S608
        f"AS u ({columns}) GROUP BY {key_list} ORDER BY {order}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, (*raw_params, *rolled_params))
        rows = cursor.fetchall()
    out = []
    for row in rows:
        item = dict(zip(names, row[: len(names)], strict=True))
        for measure, value in zip(MEASURES, row[len(names) :], strict=True):
            if measure == "cost":
                item[measure] = value if value is not None else Decimal(0)
            else:
                item[measure] = int(value or 0)
        out.append(item)
    return out


def team_usage_this_month(*, team_id: Any) -> dict[str, Any]:
    """The team's calls, tokens (in, out) and cost since the first of this month (local
    time): roll-ups plus raw rows (`usage_totals_by`, grouped by the team alone)."""
    today = timezone.localdate()
    rows = usage_totals_by(
        start=today.replace(day=1),
        end=today,
        keys={"key": (F("team_id"), F("team_id"))},
        team_id=team_id,
    )
    totals: dict[str, Any] = {"calls": 0, "input_tokens": 0, "output_tokens": 0}
    totals["cost"] = Decimal(0)
    for row in rows:
        for measure in totals:
            totals[measure] += row[measure]
    return totals


def usage_report(
    *,
    start: datetime.date,
    end: datetime.date,
    group_by: str,
    user_id: Any = None,
    team_id: Any = None,
) -> list[dict[str, Any]]:
    """What `usage_summary` answers for the raw rows, over roll-ups plus raw rows: the
    same rows, so the API's figures do not change when a day is rolled up or pruned."""
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPS)}")
    rows = usage_totals_by(
        start=start, end=end, keys=KEYS[group_by], user_id=user_id, team_id=team_id
    )
    return [_labelled(row) for row in rows]


def _labelled(row: dict[str, Any]) -> dict[str, Any]:
    key = row.pop("key")
    label = row.pop("label", None)
    provider = row.pop("provider_name", None)
    text = "" if key is None else str(key)
    if not label:
        label = f"{provider}/{text}" if provider else text
    item: dict[str, Any] = {"key": text, "label": label, **row}
    item["total_tokens"] = item["input_tokens"] + item["output_tokens"]
    item["cost"] = item["cost"] or Decimal(0)
    return item


def usage_summary(*, calls: QuerySet[ModelCall], group_by: str) -> list[dict[str, Any]]:
    """One row per group, ordered by the group: calls, tokens and cost summed."""
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPS)}")
    keys = {name: raw_expr for name, (raw_expr, _) in KEYS[group_by].items()}
    rows = (
        calls.order_by()
        .values(**keys)
        .annotate(
            calls=Count("id"),
            errors=Count("id", filter=~Q(status=ModelCall.Status.OK)),
            estimated_calls=Count("id", filter=Q(tokens_estimated=True)),
            input_tokens=Coalesce(Sum("input_tokens"), 0),
            output_tokens=Coalesce(Sum("output_tokens"), 0),
            cost=Sum("cost"),
        )
        .order_by(F("key").asc(nulls_last=True))
    )
    return [_labelled(row) for row in rows]


def usage_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    fields = ("calls", "errors", "estimated_calls", "input_tokens", "output_tokens", "total_tokens")
    totals: dict[str, Any] = {name: sum(row[name] for row in rows) for name in fields}
    totals["cost"] = sum((row["cost"] for row in rows), Decimal(0))
    return totals


def team_admin_of(*, user: Any, team_id: uuid.UUID) -> bool:
    """Whether `user` holds an owner or admin role in the team."""
    return Membership.objects.filter(
        user_id=user.pk, team_id=team_id, role__key__in=ADMIN_ROLE_KEYS
    ).exists()


SERIES = ("model", "team")
NO_TEAM = "(no team)"


def _series_label(row: dict[str, Any], by: str) -> str:
    if by == "model":
        return f"{row['provider_name']}/{row['key']}"
    return str(row["label"] or (NO_TEAM if row["key"] is None else row["key"]))


def usage_daily_series(
    *, start: datetime.date, end: datetime.date, by: str, top: int = 6
) -> dict[str, Any]:
    """Tokens and cost per day from `start` to `end`, one series per model or team: the
    `top` costliest (then most tokens) by name, the rest summed as "other". Every day
    has a value (zero when nothing ran); the series' sums are the report's totals.

    -> {"days": ["2026-11-01", ...], "series": [{"label", "tokens": [int], "cost": [Decimal]}]}
    """
    if by not in SERIES:
        raise ValueError(f"by must be one of {', '.join(SERIES)}")
    keys: dict[str, Key] = {"bucket": (TruncDate("created_at"), F("day")), **KEYS[by]}
    rows = usage_totals_by(start=start, end=end, keys=keys)
    days = [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]
    index = {day: n for n, day in enumerate(days)}
    totals: dict[str, tuple[Decimal, int]] = {}
    for row in rows:
        label = _series_label(row, by)
        cost, used = totals.get(label, (Decimal(0), 0))
        totals[label] = (cost + row["cost"], used + row["input_tokens"] + row["output_tokens"])
    ranked = sorted(totals, key=lambda label: (-totals[label][0], -totals[label][1], label))
    kept = ranked[:top]
    names = kept + (["other"] if len(ranked) > top else [])
    tokens: dict[str, list[int]] = {name: [0] * len(days) for name in names}
    costs: dict[str, list[Decimal]] = {name: [Decimal(0)] * len(days) for name in names}
    for row in rows:
        label = _series_label(row, by)
        name = label if label in kept else "other"
        n = index[row["bucket"]]
        tokens[name][n] += row["input_tokens"] + row["output_tokens"]
        costs[name][n] += row["cost"]
    return {
        "days": [day.isoformat() for day in days],
        "series": [{"label": name, "tokens": tokens[name], "cost": costs[name]} for name in names],
    }


def usage_top(
    *, start: datetime.date, end: datetime.date, by: str, limit: int = 10
) -> list[dict[str, Any]]:
    """The `limit` teams or users that cost most from `start` to `end` (then by tokens):
    `usage_report` rows (key, label, calls, tokens, cost), costliest first."""
    if by not in ("team", "user"):
        raise ValueError("by must be team or user")
    rows = [_labelled(row) for row in usage_totals_by(start=start, end=end, keys=KEYS[by])]
    for row in rows:
        if not row["label"]:
            row["label"] = NO_TEAM if by == "team" else "(no user)"
    rows.sort(key=lambda row: (-row["cost"], -row["total_tokens"], row["label"]))
    return rows[:limit]
