"""Conversations and messages in the admin: browsable by user and project, read-only
where the model wrote them. Staff see the conversations their grants allow (their own);
superusers see all."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.chat.models import ChatConversation, ChatMessage, DocumentReference
from apps.rbac.admin import ObjectPermissionAdmin
from launch.permissions import objects_visible_to

PROVENANCE = ["model", "prompt_tokens", "completion_tokens", "latency_ms", "incomplete"]


class DocumentReferenceInline(admin.TabularInline):
    model = DocumentReference
    extra = 0
    can_delete = False
    fields = [
        "citation",
        "filename",
        "page_number",
        "relevance_score",
        "content_snippet",
    ]
    readonly_fields = [
        "citation",
        "filename",
        "page_number",
        "relevance_score",
        "content_snippet",
    ]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ChatMessageInline(admin.TabularInline):
    model = ChatMessage
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["created_at", "role", "content", *PROVENANCE]
    readonly_fields = ["created_at", "role", "content", *PROVENANCE]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ChatConversation)
class ChatConversationAdmin(ObjectPermissionAdmin):
    list_display = [
        "title",
        "user",
        "project",
        "use_documents",
        "auto_generated_title",
        "updated_at",
    ]
    list_filter = ["use_documents", "auto_generated_title", "updated_at", "project"]
    search_fields = ["title", "user__email", "project__name"]
    list_select_related = ["user", "project"]
    raw_id_fields = ["user", "project"]
    readonly_fields = [
        "user",
        "project",
        "auto_generated_title",
        "title_set_by_user",
        "title_generation_task_id",
        "created_at",
        "updated_at",
    ]
    inlines = [ChatMessageInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # conversations start through the API, with their grants


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ["__str__", "role", "conversation", *PROVENANCE, "created_at"]
    list_filter = ["role", "incomplete", "model", "created_at"]
    search_fields = ["content", "conversation__title", "conversation__user__email"]
    list_select_related = ["conversation"]
    fields = [
        "conversation",
        "role",
        "content",
        "use_documents",
        "estimated_tokens",
        *PROVENANCE,
        "created_at",
    ]
    readonly_fields = [
        "conversation",
        "role",
        "content",
        "use_documents",
        "estimated_tokens",
        *PROVENANCE,
        "created_at",
    ]
    inlines = [DocumentReferenceInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChatMessage]:
        visible = objects_visible_to(request.user, ChatConversation.objects.all())
        return super().get_queryset(request).filter(conversation__in=visible.values("pk"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # messages are a record of what was said
