"""Operations writes: pruning, orphaned-file cleanup, re-running a task, usage counts.

Each prune function takes `dry_run`: it then counts what it would delete and deletes
nothing, so `prune --dry-run` and the scheduled tasks share one definition of "old".
"""

from __future__ import annotations

import ast
import json
import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from auditlog.models import LogEntry
from django.apps import apps
from django.conf import settings
from django.core.files.storage import Storage, default_storage
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from django_celery_results.models import GroupResult, TaskResult
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from apps.operations.models import PeriodicRun, UsageCounter, UsageEvent
from launch.storage import stored_files

logger = logging.getLogger(__name__)
DOCUMENTS_PREFIX = "documents/"
REFERENCED_FILES = "apps.projects.selectors.referenced_file_names"


def _delete(queryset: QuerySet[Any], *, dry_run: bool) -> int:
    count = queryset.count()
    if not dry_run and count:
        queryset.delete()  # its own count would include cascaded rows
    return count


@transaction.atomic
def tokens_flush_expired(*, dry_run: bool = False) -> int:
    """What simplejwt's `flushexpiredtokens` does, counted. Side effects: deletes expired
    outstanding refresh tokens and, by cascade, their blacklist entries."""
    expired = OutstandingToken.objects.filter(expires_at__lte=timezone.now())
    return _delete(expired, dry_run=dry_run)


@transaction.atomic
def task_results_prune(*, days: int | None = None, dry_run: bool = False) -> int:
    """Delete task and group results, and periodic-run records, older than `days`
    (default TASK_RESULT_RETENTION_DAYS). Returns how many task results went."""
    cutoff = timezone.now() - timedelta(days=days or settings.TASK_RESULT_RETENTION_DAYS)
    count = _delete(TaskResult.objects.filter(date_done__lt=cutoff), dry_run=dry_run)
    _delete(GroupResult.objects.filter(date_done__lt=cutoff), dry_run=dry_run)
    _delete(PeriodicRun.objects.filter(started_at__lt=cutoff), dry_run=dry_run)
    return count


@transaction.atomic
def activity_prune(*, days: int | None = None, dry_run: bool = False) -> int:
    """Delete activity entries older than `days` (default ACTIVITY_RETENTION_DAYS)."""
    cutoff = timezone.now() - timedelta(days=days or settings.ACTIVITY_RETENTION_DAYS)
    return _delete(LogEntry.objects.filter(timestamp__lt=cutoff), dry_run=dry_run)


def referenced_file_names() -> set[str] | None:
    """Names of stored files that documents reference, from the projects app; None when
    it is not installed or does not offer the selector yet (then nothing is orphaned)."""
    if not apps.is_installed("apps.projects"):
        return None
    try:
        selector: Callable[[], Any] = import_string(REFERENCED_FILES)
    except ImportError:
        logger.warning("%s is missing; orphaned files are not cleaned up", REFERENCED_FILES)
        return None
    return set(selector())


def orphan_files(*, storage: Storage | None = None) -> list[str]:
    """Stored files under `documents/` older than ORPHAN_FILE_MIN_AGE_MINUTES that no
    document references. Young files are spared: an upload writes its file before the
    row that references it commits. Works on any storage: local folders are walked,
    an S3 bucket is listed under the prefix (`launch.storage.stored_files`)."""
    referenced = referenced_file_names()
    if referenced is None:
        return []
    cutoff = timezone.now() - timedelta(minutes=settings.ORPHAN_FILE_MIN_AGE_MINUTES)
    return [
        name
        for name, modified in stored_files(prefix=DOCUMENTS_PREFIX, storage=storage)
        if name not in referenced and modified < cutoff
    ]


def orphan_files_delete(*, dry_run: bool = False, storage: Storage | None = None) -> int:
    """Delete the files `orphan_files` finds. Side effects: removes them from storage."""
    storage = storage or default_storage
    names = orphan_files(storage=storage)
    if not dry_run:
        for name in names:
            storage.delete(name)
    return len(names)


def model_calls_roll_up() -> int:
    """The usage ledger's daily roll-up (apps.usage), when that app is installed."""
    if not apps.is_installed("apps.usage"):
        return 0
    from apps.usage.services import usage_roll_up

    return usage_roll_up()


def model_calls_prune(*, dry_run: bool = False) -> int:
    """Raw usage-ledger rows past USAGE_RAW_RETENTION_DAYS, once rolled up (apps.usage)."""
    if not apps.is_installed("apps.usage"):
        return 0
    from apps.usage.services import model_calls_prune as prune

    return prune(dry_run=dry_run)


PRUNE_STEPS: dict[str, Callable[..., int]] = {
    "expired tokens": tokens_flush_expired,
    "task results": task_results_prune,
    "activity entries": activity_prune,
    "orphaned files": orphan_files_delete,
    "rolled-up model calls": model_calls_prune,
}


def decode_task_arguments(result: TaskResult) -> tuple[list[Any], dict[str, Any]]:
    """The args and kwargs a result stored. django-celery-results keeps Celery's repr of
    them, JSON-encoded; Launch's tasks take ids and JSON values, which that repr keeps
    intact. Raises ValueError when the stored value cannot be read back."""

    def decode(stored: str | None) -> Any:
        if not stored:
            return None
        value = json.loads(stored)
        return ast.literal_eval(value) if isinstance(value, str) else value

    try:
        args, kwargs = decode(result.task_args), decode(result.task_kwargs)
    except (ValueError, SyntaxError) as exc:
        raise ValueError(f"The arguments of task {result.task_id} cannot be read back.") from exc
    if not isinstance(args or [], list | tuple) or not isinstance(kwargs or {}, dict):
        raise ValueError(f"The arguments of task {result.task_id} cannot be read back.")
    return list(args or []), dict(kwargs or {})


@transaction.atomic
def task_rerun(*, result: TaskResult) -> str:
    """Send the task of `result` again with its stored arguments; returns the new task id.
    Side effects: one message to the broker, after the surrounding transaction commits."""
    if not result.task_name:
        raise ValueError(f"Task {result.task_id} has no stored name.")
    args, kwargs = decode_task_arguments(result)
    task_id = str(uuid.uuid4())

    def send() -> None:
        from config.celery import app

        app.send_task(result.task_name, args=args, kwargs=kwargs, task_id=task_id)

    transaction.on_commit(send)
    return task_id


def usage_record(*, name: str) -> None:
    """Count one use of `name` (a search). Side effects: appends a UsageEvent row; no
    row is updated, so concurrent requests never wait on each other here."""
    UsageEvent.objects.create(name=name)


# One statement: the DELETE takes the events it sees and the INSERT adds them to their
# days' counters, so an event is counted by exactly one run. A concurrent run blocks on
# the rows this one deletes and then skips them (they are gone when it may proceed).
_ROLL_UP = """
WITH gone AS (
    DELETE FROM {events} RETURNING name, created_at
), per_day AS (
    SELECT name, (created_at AT TIME ZONE %(tz)s)::date AS day, count(*) AS n
    FROM gone GROUP BY 1, 2
), added AS (
    INSERT INTO {counters} AS counter (name, day, count)
    SELECT name, day, n FROM per_day
    ON CONFLICT (name, day) DO UPDATE SET count = counter.count + EXCLUDED.count
)
SELECT coalesce(sum(n), 0) FROM per_day
"""


@transaction.atomic
def usage_roll_up() -> int:
    """Fold every UsageEvent into the daily UsageCounter rows (the day in TIME_ZONE, as
    `timezone.localdate()` counts it); returns how many events were folded. Running it
    again, or twice at once, counts nothing twice. Side effects: upserts UsageCounter
    rows, deletes the UsageEvent rows it counted."""
    sql = _ROLL_UP.format(events=UsageEvent._meta.db_table, counters=UsageCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"tz": settings.TIME_ZONE})
        (folded,) = cursor.fetchone()
    return int(folded)
