from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "apps.usage"
    label = "usage"
    verbose_name = "Usage"

    def ready(self) -> None:
        from django.conf import settings

        from apps.usage.services import model_call_record
        from launch.ai import metering

        # Read once at start-up: off, calls are still measured but written nowhere.
        metering.set_sink(model_call_record if settings.USAGE_LEDGER_ENABLED else None)
