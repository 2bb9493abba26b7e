"""The admin as a control room: the index with live numbers, and actions that call
services (assign a role, re-run a failed task). The activity log, task and group
results, periodic runs and usage counters are read-only."""

from __future__ import annotations

from typing import Any

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django_celery_results.admin import GroupResultAdmin, TaskResultAdmin
from django_celery_results.models import GroupResult, TaskResult

from apps.operations import services
from apps.operations.models import PeriodicRun, UsageCounter, UsageEvent
from apps.operations.selectors import control_room, usage_dashboard
from apps.rbac.admin import refusal_message
from apps.rbac.rights import Refused
from apps.rbac.services import role_add_member
from apps.users.admin import UserAdmin
from apps.users.models import User
from launch.admin import ReadOnlyAdminMixin

_default_index = admin.site.index


def control_room_index(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
    """The default admin index plus the cards and the usage charts
    `templates/admin/index.html` renders."""
    usage = usage_dashboard(user=request.user)  # type: ignore[arg-type]
    context = {
        "control_room": control_room(user=request.user),  # type: ignore[arg-type]
        "usage": usage,
        "usage_tops": [
            ("Top teams by cost", usage.top_teams),
            ("Top users by cost", usage.top_users),
        ]
        if usage
        else [],
        **(extra_context or {}),
    }
    return _default_index(request, extra_context=context)


admin.site.index = control_room_index  # type: ignore[method-assign]


class AssignRoleForm(forms.Form):
    role = forms.ModelChoiceField(queryset=Group.objects.order_by("name"))


admin.site.unregister(User)


@admin.register(User)
class OperationsUserAdmin(UserAdmin):
    actions = [*UserAdmin.actions, "assign_role"]

    def has_assign_role_permission(self, request: HttpRequest) -> bool:
        # Changing users and managing roles: either alone must not hand out roles.
        return bool(
            self.has_change_permission(request) and request.user.has_perm("auth.change_group")
        )

    @admin.action(description="Assign a role to selected users…", permissions=["assign_role"])
    def assign_role(self, request: HttpRequest, queryset: QuerySet[User]) -> HttpResponse | None:
        form = AssignRoleForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            role = form.cleaned_data["role"]
            try:
                with transaction.atomic():
                    for user in queryset:
                        role_add_member(role=role, user=user, actor=request.user)  # type: ignore[arg-type]
            except Refused as error:
                self.message_user(request, refusal_message(error), messages.ERROR)
                return None
            self.message_user(
                request,
                f"Role {role.name} assigned to {queryset.count()} user(s).",
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Assign a role",
            "form": form,
            "queryset": queryset,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/operations/assign_role.html", context)


admin.site.unregister(TaskResult)
admin.site.unregister(GroupResult)


@admin.register(TaskResult)
class OperationsTaskResultAdmin(ReadOnlyAdminMixin, TaskResultAdmin):
    """What Celery recorded, as it recorded it; pruned by the schedule, never edited."""

    actions = ["rerun"]

    def has_rerun_permission(self, request: HttpRequest) -> bool:
        # The page is read-only for everyone; sending a task again needs the right
        # that used to allow editing results.
        return bool(request.user.has_perm("django_celery_results.change_taskresult"))

    @admin.action(description="Re-run selected failed tasks", permissions=["rerun"])
    def rerun(self, request: HttpRequest, queryset: QuerySet[TaskResult]) -> None:
        sent, skipped = 0, 0
        for result in queryset:
            if result.status != "FAILURE":
                skipped += 1
                continue
            try:
                services.task_rerun(result=result)
            except ValueError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            sent += 1
        note = f" ({skipped} not failed, left alone)" if skipped else ""
        self.message_user(request, f"{sent} task(s) sent again{note}.", messages.SUCCESS)


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class ActivityAdmin(LogEntryAdmin):
    # auditlog's defaults search first_name/last_name, which Launch's user has not.
    search_fields = ["object_repr", "object_pk", "changes", "actor__email", "cid"]
    list_filter = [*LogEntryAdmin.list_filter, "content_type__app_label"]


@admin.register(GroupResult)
class OperationsGroupResultAdmin(ReadOnlyAdminMixin, GroupResultAdmin):
    pass


@admin.register(PeriodicRun)
class PeriodicRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["task", "period_start", "started_at", "summary"]
    list_filter = ["task"]
    date_hierarchy = "started_at"


@admin.register(UsageCounter)
class UsageCounterAdmin(PeriodicRunAdmin):
    """Rolled-up daily counts; the uses since the last roll-up are said above the list
    (the control room's figures include them)."""

    list_display = ["day", "name", "count"]
    list_filter = ["name"]
    date_hierarchy = "day"

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        pending = UsageEvent.objects.count()
        if pending and request.method == "GET":
            self.message_user(
                request,
                f"{pending} use(s) since the last roll-up are not in these rows yet "
                "(the “Roll up usage” task adds them every 5 minutes).",
                messages.INFO,
            )
        return super().changelist_view(request, extra_context)
