"""Periodic tasks. Each takes its period's lock, so duplicate beats do the work once, and
marks the activity entries it causes as coming from a task."""

from __future__ import annotations

from collections.abc import Callable

from celery import shared_task

from apps.operations import services
from apps.operations.activity import system_activity
from apps.operations.locks import run_once_per_period
from apps.operations.schedule import scheduled


def _run(task: str, key: str, step: Callable[[], int]) -> dict[str, int] | None:
    def work() -> dict[str, int]:
        with system_activity("task", task):
            return {key: step()}

    return run_once_per_period(task, scheduled(task).period, work)


@shared_task(name="apps.operations.tasks.flush_expired_tokens")
def flush_expired_tokens() -> dict[str, int] | None:
    return _run(flush_expired_tokens.name, "deleted", services.tokens_flush_expired)


@shared_task(name="apps.operations.tasks.prune_task_results")
def prune_task_results() -> dict[str, int] | None:
    return _run(prune_task_results.name, "deleted", services.task_results_prune)


@shared_task(name="apps.operations.tasks.prune_activity")
def prune_activity() -> dict[str, int] | None:
    return _run(prune_activity.name, "deleted", services.activity_prune)


@shared_task(name="apps.operations.tasks.delete_orphan_files")
def delete_orphan_files() -> dict[str, int] | None:
    return _run(delete_orphan_files.name, "deleted", services.orphan_files_delete)


@shared_task(name="apps.operations.tasks.roll_up_usage")
def roll_up_usage() -> dict[str, int] | None:
    return _run(roll_up_usage.name, "events", services.usage_roll_up)


@shared_task(name="apps.operations.tasks.roll_up_model_calls")
def roll_up_model_calls() -> dict[str, int] | None:
    return _run(roll_up_model_calls.name, "calls", services.model_calls_roll_up)


@shared_task(name="apps.operations.tasks.prune_model_calls")
def prune_model_calls() -> dict[str, int] | None:
    return _run(prune_model_calls.name, "deleted", services.model_calls_prune)
