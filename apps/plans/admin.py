"""Plans in the admin: staff set each plan's limits here, and a team's plan on the team's
page (apps.teams.admin). A change applies from the next request: limits are read from
the plan's row on every check, never cached."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from apps.plans.models import Plan
from apps.plans.quotas import QuotaConfig


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "key",
        "name",
        "max_documents",
        "max_storage_bytes",
        "tokens_per_month",
        "chat_messages_per_day",
        "api_key_requests_per_minute",
        "team_count",
        "is_default",
    ]
    search_fields = ["key", "name"]
    readonly_fields = ["created_at", "updated_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Plan]:
        return super().get_queryset(request).annotate(teams_on_plan=Count("teams"))

    @admin.display(description="teams (set explicitly)", ordering="teams_on_plan")
    def team_count(self, plan: Any) -> int:
        return int(plan.teams_on_plan)

    @admin.display(description="default", boolean=True)
    def is_default(self, plan: Plan) -> bool:
        return plan.key == QuotaConfig.from_settings().default_plan

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The default plan applies to every team without one; teams on a plan keep it
        # (PROTECT): the admin lists them when a delete is refused.
        if obj is not None and self.is_default(obj):
            return False
        return super().has_delete_permission(request, obj)
