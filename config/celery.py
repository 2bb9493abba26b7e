"""The Celery application. Tasks are discovered in every installed app's `tasks.py`."""

import os
from typing import Any

from celery import Celery
from celery.signals import (
    beat_init,
    before_task_publish,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_init,
    worker_process_init,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("launch")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
@worker_process_init.connect
@beat_init.connect
def _background_statement_timeout(**kwargs: Any) -> None:
    """Workers and beat serve no request: DB_BACKGROUND_STATEMENT_TIMEOUT_MS applies."""
    from launch.db import use_background_statement_timeout

    use_background_statement_timeout()


@setup_logging.connect
def _logging_as_the_web(loglevel: Any = None, **kwargs: Any) -> None:
    """Workers and beat log through Django's LOGGING (JSON by default, with the request
    id), instead of Celery replacing the root logger's handlers with its own format.
    Celery's own lines (received, succeeded, ready) keep the level of `--loglevel`."""
    import logging
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger("celery").setLevel(loglevel)


@before_task_publish.connect
def _carry_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    from launch.logging import carry_request_id

    carry_request_id(headers)


@task_prerun.connect
def _adopt_request_id(task_id: str, task: Any, **kwargs: Any) -> None:
    from launch.logging import adopt_request_id

    adopt_request_id(task_id, task.request)


@task_postrun.connect
def _drop_request_id(task_id: str, **kwargs: Any) -> None:
    from launch.logging import drop_request_id

    drop_request_id(task_id)
