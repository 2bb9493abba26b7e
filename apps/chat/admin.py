"""Conversations and messages in the admin: browsable by user and project, read-only
where the model wrote them. Staff see the conversations their grants allow (their own);
superusers see all."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.safestring import SafeString, mark_safe

from apps.chat import services
from apps.chat.models import AnswerTrace, ChatConversation, ChatMessage, DocumentReference
from apps.chat.services.traces import trace_replay
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
    list_filter = [
        "use_documents",
        "auto_generated_title",
        "updated_at",
        ("project", admin.RelatedOnlyFieldListFilter),  # projects with conversations
    ]
    search_fields = ["title", "user__email", "project__name"]
    list_select_related = ["user", "project"]
    raw_id_fields = ["user", "project"]
    readonly_fields = [
        "user",
        "team",
        "project",
        "use_documents",  # chosen at creation, as in the API (each message may override it)
        "auto_generated_title",
        "title_set_by_user",
        "title_generation_task_id",
        "created_at",
        "updated_at",
    ]
    inlines = [ChatMessageInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # conversations start through the API, with their grants

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if "title" in form.changed_data:
            services.conversation_rename(conversation=obj, title=obj.title)

    def delete_through_service(self, obj: Any) -> None:
        services.conversation_delete(conversation=obj)


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
        "rag_trace",
    ]
    readonly_fields = [
        "conversation",
        "role",
        "content",
        "use_documents",
        "estimated_tokens",
        *PROVENANCE,
        "created_at",
        "rag_trace",
    ]
    inlines = [DocumentReferenceInline]

    # A message is part of its conversation's record, as in the API, which neither adds
    # nor deletes one: staff delete the whole conversation (through its service).
    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="RAG trace")
    def rag_trace(self, obj: ChatMessage) -> SafeString | str:
        trace = AnswerTrace.objects.filter(message=obj).first()
        if trace is None:
            return "-"
        replay = reverse("admin:chat_chatmessage_replay", args=[obj.pk])
        # The template escapes every value; mark_safe only keeps Django from escaping
        # the rendered HTML a second time.
        return mark_safe(  # noqa: S308
            render_to_string("admin/chat/trace.html", {"trace": trace.data, "replay": replay})
        )

    def get_urls(self) -> list[URLPattern]:
        replay = path(
            "<uuid:message_id>/replay/",
            self.admin_site.admin_view(self.replay_view),
            name="chat_chatmessage_replay",
        )
        return [replay, *super().get_urls()]

    def replay_view(self, request: HttpRequest, message_id: str) -> HttpResponse:
        """Run the answer's retrieval again now and show what changed (writes nothing)."""
        message = get_object_or_404(self.get_queryset(request), pk=message_id)
        if not self.has_view_permission(request, message):
            raise Http404
        trace = AnswerTrace.objects.filter(message=message).first()
        if trace is None:
            raise Http404("This message has no trace.")
        context = {
            **self.admin_site.each_context(request),
            "title": "Replay of the retrieval",
            "message": message,
            "trace": trace.data,
            "replay": trace_replay(trace=trace),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/chat/replay.html", context)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChatMessage]:
        visible = objects_visible_to(request.user, ChatConversation.objects.all())
        return super().get_queryset(request).filter(conversation__in=visible.values("pk"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # messages are a record of what was said
