from typing import Any

from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "apps.usage"
    label = "usage"
    verbose_name = "Usage"

    def ready(self) -> None:
        from celery.signals import worker_init, worker_process_init
        from django.conf import settings

        from apps.usage.services import model_call_record
        from apps.usage.writer import writer
        from launch.ai import metering

        # Read once at start-up. Off: calls are still measured but written nowhere.
        # Deferred (web servers): batched off the request path (apps/usage/writer.py).
        if not settings.USAGE_LEDGER_ENABLED:
            metering.set_sink(None)
            return
        metering.set_sink(writer.submit if settings.USAGE_LEDGER_DEFERRED else model_call_record)

        def inline(**kwargs: Any) -> None:
            # A task has no user waiting, and its retries rely on the row being written
            # (or refused as a duplicate) before it returns.
            metering.set_sink(model_call_record)

        worker_init.connect(inline, weak=False)
        worker_process_init.connect(inline, weak=False)
