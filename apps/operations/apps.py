from django.apps import AppConfig


class OperationsConfig(AppConfig):
    name = "apps.operations"
    label = "operations"
    verbose_name = "Operations"

    def ready(self) -> None:
        # Here rather than at import time: every app's models are loaded by now, so models
        # of apps installed later (projects, chat) are covered as soon as they exist.
        from apps.operations.activity import register_tracked_models

        register_tracked_models()
