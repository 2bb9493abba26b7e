from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "apps.usage"
    label = "usage"
    verbose_name = "Usage"

    def ready(self) -> None:
        from apps.usage.services import model_call_record
        from launch.ai import metering

        metering.set_sink(model_call_record)
