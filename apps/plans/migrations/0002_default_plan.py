"""The default plan, "free" (USAGE_DEFAULT_PLAN's default): limits for trying Launch out.
Staff change them in the admin; a team given another plan there leaves it."""

from django.db import migrations

FREE = {
    "name": "Free",
    "max_documents": 100,
    "max_storage_bytes": 500 * 1024 * 1024,
    "tokens_per_month": 1_000_000,
    "chat_messages_per_day": 200,
    "api_key_requests_per_minute": 60,
}


def create_free(apps, schema_editor):
    Plan = apps.get_model("plans", "Plan")
    Plan.objects.get_or_create(key="free", defaults=FREE)


class Migration(migrations.Migration):
    dependencies = [("plans", "0001_initial")]

    operations = [migrations.RunPython(create_free, migrations.RunPython.noop)]
