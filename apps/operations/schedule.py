"""The default schedule, declared once, and its sync into django-celery-beat's tables.

Celery beat runs with `DatabaseScheduler`, so the database is the schedule staff see and
edit in the admin (Periodic tasks). `schedule_sync()` only creates entries that are
missing, by name: an entry staff re-timed, paused or edited keeps their changes. To stop
one for good, disable it; a deleted entry comes back on the next `bootstrap`.

No run is lost across a beat restart: DatabaseScheduler stores each entry's
`last_run_at`, and a restarted beat runs an entry whose due time passed while it was down.
Duplicate beats cannot run an entry twice in one period (see `locks.run_once_per_period`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask


@dataclass(frozen=True)
class ScheduledTask:
    name: str
    task: str
    description: str
    # "minute hour day_of_month month_of_year day_of_week", or an interval.
    crontab: str | None = None
    every: timedelta | None = None
    # A run takes the lock of its period: at most one run per task per period.
    period: timedelta = timedelta(days=1)
    # The entry is created only once this app is installed (its task lives there).
    requires_app: str | None = None


DEFAULT_SCHEDULE: tuple[ScheduledTask, ...] = (
    ScheduledTask(
        name="Flush expired JWT tokens",
        task="apps.operations.tasks.flush_expired_tokens",
        description="Delete outstanding and blacklisted refresh tokens that have expired.",
        crontab="17 3 * * *",
    ),
    ScheduledTask(
        name="Re-queue stuck documents",
        task="apps.projects.tasks.documents_requeue_stuck",
        description="Re-queue documents stuck in pending/processing; fail them after retries.",
        every=timedelta(minutes=5),
        period=timedelta(minutes=5),
        requires_app="apps.projects",
    ),
    ScheduledTask(
        name="Prune task results",
        task="apps.operations.tasks.prune_task_results",
        description="Delete task results older than TASK_RESULT_RETENTION_DAYS.",
        crontab="27 3 * * *",
    ),
    ScheduledTask(
        name="Prune activity log",
        task="apps.operations.tasks.prune_activity",
        description="Delete activity entries older than ACTIVITY_RETENTION_DAYS.",
        crontab="37 3 * * *",
    ),
    ScheduledTask(
        name="Delete orphaned files",
        task="apps.operations.tasks.delete_orphan_files",
        description="Delete stored document files that no document references.",
        crontab="47 3 * * *",
        requires_app="apps.projects",
    ),
    ScheduledTask(
        name="Roll up usage",
        task="apps.operations.tasks.roll_up_usage",
        description="Add the usage events (searches) to the daily usage counters.",
        every=timedelta(minutes=5),
        period=timedelta(minutes=5),
    ),
    ScheduledTask(
        name="Roll up model calls",
        task="apps.operations.tasks.roll_up_model_calls",
        description=(
            "Add the usage ledger's rows of finished days (and late ones) to the daily "
            "usage totals."
        ),
        crontab="7 0 * * *",
        requires_app="apps.usage",
    ),
    ScheduledTask(
        name="Prune model calls",
        task="apps.operations.tasks.prune_model_calls",
        description=(
            "Delete rolled-up usage ledger rows older than USAGE_RAW_RETENTION_DAYS "
            "(the daily totals stay)."
        ),
        crontab="57 3 * * *",
        requires_app="apps.usage",
    ),
)


def scheduled(task: str) -> ScheduledTask:
    return next(entry for entry in DEFAULT_SCHEDULE if entry.task == task)


def _crontab(expression: str) -> CrontabSchedule:
    minute, hour, day_of_month, month_of_year, day_of_week = expression.split()
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month_of_year,
        day_of_week=day_of_week,
        timezone=settings.TIME_ZONE,
    )
    return schedule


def _interval(every: timedelta) -> IntervalSchedule:
    schedule, _ = IntervalSchedule.objects.get_or_create(
        every=int(every.total_seconds()), period=IntervalSchedule.SECONDS
    )
    return schedule


@transaction.atomic
def schedule_sync() -> list[str]:
    """Create the default entries that do not exist yet; returns the names created.

    Side effects: PeriodicTask rows (and their crontab/interval rows). Existing entries are
    never changed. Creating a row does not import its task, so an entry whose task module
    has not landed yet is harmless until a worker receives it.
    """
    created = []
    for entry in DEFAULT_SCHEDULE:
        if entry.requires_app and not apps.is_installed(entry.requires_app):
            continue
        if PeriodicTask.objects.filter(name=entry.name).exists():
            continue
        PeriodicTask.objects.create(
            name=entry.name,
            task=entry.task,
            description=entry.description,
            crontab=_crontab(entry.crontab) if entry.crontab else None,
            interval=_interval(entry.every) if entry.every else None,
        )
        created.append(entry.name)
    return created


def bootstrap_step() -> str:
    """`bootstrap` step: the default schedule."""
    created = schedule_sync()
    if not created:
        return "Default schedule present (existing entries left as staff set them)."
    return f"Scheduled: {', '.join(created)}."
