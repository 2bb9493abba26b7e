"""The ledger and its daily roll-ups in the admin: read-only, filtered by provider, model,
purpose and status. Rows are written only by the metering sink and the roll-up task;
nobody adds, edits or deletes them here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.usage.models import ModelCall, UsageDay


@admin.register(ModelCall)
class ModelCallAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "purpose",
        "provider",
        "model",
        "status",
        "input_tokens",
        "output_tokens",
        "tokens_estimated",
        "cost",
        "latency_ms",
        "user",
        "team",
    ]
    list_filter = ["provider", "model", "purpose", "status", "tokens_estimated"]
    date_hierarchy = "created_at"
    search_fields = ["model", "user__email", "team__name", "idempotency_key"]
    list_select_related = ["user", "team"]
    # No second COUNT(*) over the whole ledger for the "N total" line.
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in ModelCall._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(UsageDay)
class UsageDayAdmin(ModelCallAdmin):
    """The daily roll-ups, kept for good; written only by the roll-up task."""

    list_display = [
        "day",
        "team",
        "user",
        "provider",
        "model",
        "purpose",
        "calls",
        "errors",
        "input_tokens",
        "output_tokens",
        "cost",
    ]
    list_filter = ["provider", "model", "purpose"]
    date_hierarchy = "day"
    search_fields = ["model", "user__email", "team__name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in UsageDay._meta.fields]
