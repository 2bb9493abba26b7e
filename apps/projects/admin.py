"""Projects with their documents; documents with status, progress, error and reprocessing.

Documents follow their project's grants here as in the API: staff see the documents of
projects they may view, and reprocess those of projects they may change.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.projects import services
from apps.projects.models import Document, Project
from apps.projects.selectors import document_list, project_list
from apps.rbac.admin import ObjectPermissionAdmin
from apps.users.models import User
from launch.permissions import object_actions_of

DOCUMENT_FIELDS = (
    "filename",
    "file_type",
    "document_type",
    "status",
    "progress",
    "error_message",
    "created_at",
)


class DocumentInline(admin.TabularInline):
    model = Document
    fields = DOCUMENT_FIELDS
    readonly_fields = DOCUMENT_FIELDS
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ["-created_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="progress")
    def progress(self, document: Document) -> str:
        return f"{document.progress_percentage:g}%"


@admin.register(Project)
class ProjectAdmin(ObjectPermissionAdmin):
    list_display = ["name", "owner", "max_context_tokens", "created_at"]
    search_fields = ["name", "description", "owner__email"]
    list_select_related = ["owner"]
    readonly_fields = ["owner", "team", "created_at", "updated_at"]
    inlines = [DocumentInline]

    def save_model(self, request: HttpRequest, obj: Project, form: Any, change: bool) -> None:
        fields: dict[str, Any] = {
            "name": obj.name,
            "description": obj.description,
            "system_prompt": obj.system_prompt,
            "max_context_tokens": obj.max_context_tokens,
        }
        if change:
            services.project_update(project=obj, **fields)
        else:
            user = cast(User, request.user)
            self.adopt(obj, services.project_create(user=user, **fields))

    def delete_through_service(self, obj: Any) -> None:
        services.project_delete(project=obj)


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["filename", "project", "file_type", "status", "progress", "created_at"]
    list_filter = ["status", "file_type", "document_type", "created_at"]
    search_fields = ["filename", "sha256", "project__name"]
    list_select_related = ["project"]
    readonly_fields = (
        "project",
        "uploaded_by",
        "filename",
        "file_type",
        "document_type",
        "file_size",
        "sha256",
        "status",
        "progress",
        "total_chunks",
        "processed_chunks",
        "estimated_tokens",
        "error_message",
        "attempts",
        "task_id",
        "created_at",
        "processing_started_at",
        "processing_completed_at",
    )
    fields = readonly_fields
    actions = ["reprocess"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Document]:
        return document_list(user=request.user).select_related("project")

    @admin.display(description="progress")
    def progress(self, document: Document) -> str:
        return f"{document.progress_percentage:g}%"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # uploads go through the API or `manage.py ingest`

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # As in the API: deleting a document is a change of its project.
        if obj is not None and "change" not in object_actions_of(request.user, obj.project):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: Document) -> None:
        services.document_delete(document=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        for document in queryset:
            services.document_delete(document=document)

    @admin.action(description="Reprocess the selected documents")
    def reprocess(self, request: HttpRequest, queryset: QuerySet[Document]) -> None:
        changeable = project_list(user=request.user, action="change")
        allowed = queryset.filter(project__in=changeable.values("pk"))
        count = 0
        for document in allowed:
            services.document_reprocess(document=document)
            count += 1
        skipped = queryset.count() - count
        self.message_user(request, f"{count} documents queued for processing.")
        if skipped:
            self.message_user(
                request,
                f"{skipped} documents skipped: you may not change their project.",
                messages.WARNING,
            )
