from django.apps import AppConfig


class LaunchConfig(AppConfig):
    name = "launch"
    verbose_name = "Launch core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from launch import (
            checks,  # noqa: F401  (registers the system checks)
            metrics,  # noqa: F401  (connects the Celery task signals)
        )
        from launch.permissions import forget_permission_ids

        post_migrate.connect(forget_permission_ids, dispatch_uid="launch-forget-permission-ids")
