"""Reading the ledger: sums over a date range, grouped, for one user or one team."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate

from apps.teams.models import Membership
from apps.usage.models import ModelCall

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
    calls = ModelCall.objects.filter(created_at__date__gte=start, created_at__date__lte=end)
    if user_id is not None:
        calls = calls.filter(user_id=user_id)
    if team_id is not None:
        calls = calls.filter(team_id=team_id)
    return calls


def usage_summary(*, calls: QuerySet[ModelCall], group_by: str) -> list[dict[str, Any]]:
    """One row per group, ordered by the group: calls, tokens and cost summed."""
    if group_by not in GROUPS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPS)}")
    groups: dict[str, dict[str, Any]] = {
        "day": {"key": TruncDate("created_at")},
        "model": {"key": F("model"), "provider_name": F("provider")},
        "purpose": {"key": F("purpose")},
        "user": {"key": F("user_id"), "label": F("user__email")},
        "project": {"key": F("project_id")},
    }
    keys = groups[group_by]
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
    out = []
    for row in rows:
        key = row.pop("key")
        label = row.pop("label", None)
        provider = row.pop("provider_name", None)
        text = "" if key is None else str(key)
        if not label:
            label = f"{provider}/{text}" if provider else text
        item: dict[str, Any] = {"key": text, "label": label, **row}
        item["total_tokens"] = item["input_tokens"] + item["output_tokens"]
        item["cost"] = item["cost"] or Decimal(0)
        out.append(item)
    return out


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
