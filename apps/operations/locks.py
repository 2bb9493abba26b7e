"""At most one run per task and period, however many beat processes send it.

Two beats started by mistake send every due task twice. Each periodic task therefore
inserts a `PeriodicRun` row for (task, start of the current period) in the transaction
that does its work. PostgreSQL's unique index makes the second insert wait for the first
transaction: if that one commits, the second run sees the conflict and does nothing; if it
fails and rolls back, the second run does the work instead, so a failure loses no run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.operations.models import PeriodicRun

T = TypeVar("T")


def period_start(moment: datetime, period: timedelta) -> datetime:
    """The start of the period that contains `moment`, periods counted from the epoch."""
    seconds = int(period.total_seconds())
    return datetime.fromtimestamp(int(moment.timestamp()) // seconds * seconds, tz=UTC)


def run_once_per_period(
    task: str, period: timedelta, work: Callable[[], dict[str, T]]
) -> dict[str, T] | None:
    """Call `work` unless this period's run of `task` already happened; returns its
    summary (stored on the run row), or None when another run took the period."""
    start = period_start(timezone.now(), period)
    with transaction.atomic():
        try:
            with transaction.atomic():
                run = PeriodicRun.objects.create(task=task, period_start=start)
        except IntegrityError:
            return None
        summary = work()
        run.summary = summary
        run.save(update_fields=["summary"])
    return summary
