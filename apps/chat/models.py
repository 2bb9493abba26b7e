"""Conversations with a chat model, optionally grounded in a project's documents.

A conversation is private to its creator: the creator's object grants are `view`,
`change` and `delete`, and there is no `share` permission, so no one else can be given
access (superusers pass every check). Messages and references belong to their
conversation and have no grants of their own.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models

from launch.models import RoleGrant, TimestampedModel, UserGrant, UUIDModel, shared_grants_index


class ChatConversation(TimestampedModel):
    owner_field: ClassVar[str] = "user"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_conversations"
    )
    project = models.ForeignKey(
        "projects.Project",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="conversations",
    )
    # Its project's team when it has one (`conversation_create` keeps them equal).
    team = models.ForeignKey("teams.Team", on_delete=models.CASCADE, related_name="conversations")
    title = models.CharField(max_length=255)
    use_documents = models.BooleanField(default=True)
    auto_generated_title = models.BooleanField(default=False)
    # Set when a person names the conversation; the title task then leaves it alone.
    title_set_by_user = models.BooleanField(default=False)
    title_generation_task_id = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001  (the contract returns null)

    class Meta:
        verbose_name = "conversation"
        ordering = ["-updated_at", "id"]
        indexes = [
            models.Index(fields=["user", "-updated_at"], name="chat_conv_user_recent"),
            models.Index(fields=["team", "-updated_at", "id"], name="chat_conv_team_recent"),
        ]

    def __str__(self) -> str:
        return self.title


# Short verbose names: the default ones make permission names longer than the 50
# characters of auth's first migration, which would break migrating back to zero.
class ChatConversationUserObjectPermission(UserGrant):
    content_object = models.ForeignKey(ChatConversation, on_delete=models.CASCADE)

    class Meta(UserGrant.Meta):
        verbose_name = "conversation user grant"
        indexes = [shared_grants_index("chat_conv")]


class ChatConversationGroupObjectPermission(RoleGrant):
    content_object = models.ForeignKey(ChatConversation, on_delete=models.CASCADE)

    class Meta(RoleGrant.Meta):
        verbose_name = "conversation group grant"


class ChatMessage(UUIDModel):
    class Role(models.TextChoices):
        USER = "user"
        ASSISTANT = "assistant"

    conversation = models.ForeignKey(
        ChatConversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    content = models.TextField()
    use_documents = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The size of this message's text in tokens: what the project's capacity counts.
    estimated_tokens = models.PositiveIntegerField(default=0)
    # Provenance of assistant messages.
    model = models.CharField(max_length=200, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    # A streamed answer whose client went away before it finished: saved as far as it got.
    incomplete = models.BooleanField(default=False)

    class Meta:
        verbose_name = "message"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"], name="chat_msg_conv_time")]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:60]}"


class DocumentReference(UUIDModel):
    """A passage an assistant message was given, copied so the citation outlives edits.

    `document_id` and `chunk_id` are plain ids, not foreign keys: deleting a document
    must not rewrite what an earlier answer cited.
    """

    message = models.ForeignKey(
        ChatMessage, on_delete=models.CASCADE, related_name="document_references"
    )
    document_id = models.UUIDField(db_index=True)
    chunk_id = models.UUIDField(null=True, blank=True)
    citation = models.PositiveSmallIntegerField(help_text="The [n] the answer cites it by.")
    document_type = models.CharField(max_length=50, blank=True)
    filename = models.CharField(max_length=255)
    content_snippet = models.TextField()
    relevance_score = models.FloatField()
    page_number = models.PositiveIntegerField(null=True, blank=True)
    page_total = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "document reference"
        ordering = ["message", "citation"]

    def __str__(self) -> str:
        return f"[{self.citation}] {self.filename}"


class AnswerTrace(UUIDModel):
    """How an assistant message was produced, for the RAG debugger (staff only).

    `data` holds the question, the retrieval actually run (query, mode, embedding
    version, exact or HNSW), every candidate with its semantic, keyword and fused rank
    and score, the chunks sent to the model, the token counts, the model and the time
    of each stage; `apps.chat.services.traces` writes and reads it. A row of its own so
    the message table stays lean and no message serializer can leak it by accident.
    """

    message = models.OneToOneField(ChatMessage, on_delete=models.CASCADE, related_name="trace")
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "answer trace"

    def __str__(self) -> str:
        return f"trace of {self.message_id}"
