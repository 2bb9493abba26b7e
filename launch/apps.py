from django.apps import AppConfig


class LaunchConfig(AppConfig):
    name = "launch"
    verbose_name = "Launch core"

    def ready(self) -> None:
        from launch import (
            checks,  # noqa: F401  (registers the system checks)
            metrics,  # noqa: F401  (connects the Celery task signals)
        )
