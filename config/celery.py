"""The Celery application. Tasks are discovered in every installed app's `tasks.py`."""

import os
from typing import Any

from celery import Celery
from celery.signals import beat_init, worker_init, worker_process_init

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
