from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from apps.chat.models import ChatConversation, ChatMessage, DocumentReference


class DocumentReferenceSerializer(serializers.ModelSerializer[DocumentReference]):
    message_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = DocumentReference
        fields = [
            "id",
            "message_id",
            "citation",
            "document_id",
            "chunk_id",
            "document_type",
            "filename",
            "content_snippet",
            "relevance_score",
            "page_number",
            "page_total",
            "created_at",
        ]
        read_only_fields = fields


class ChatMessageSerializer(serializers.ModelSerializer[ChatMessage]):
    conversation_id = serializers.UUIDField(read_only=True)
    document_references = DocumentReferenceSerializer(many=True, read_only=True)

    class Meta:
        model = ChatMessage
        fields = [
            "id",
            "conversation_id",
            "role",
            "content",
            "use_documents",
            "created_at",
            "document_references",
            "model",
            "prompt_tokens",
            "completion_tokens",
            "latency_ms",
            "incomplete",
        ]
        read_only_fields = fields


class ChatMessageCreateSerializer(serializers.Serializer[Any]):
    """What a client may send: its own words, never a system or assistant turn."""

    content = serializers.CharField(
        max_length=settings.CHAT_MESSAGE_MAX_CHARS,
        trim_whitespace=False,
        help_text="At most CHAT_MESSAGE_MAX_CHARS characters (32,000 by default).",
    )
    role = serializers.ChoiceField(
        choices=["user"],
        required=False,
        default="user",
        help_text="Only `user` is accepted (as upstream sends it); any other role is a 422.",
    )
    use_documents = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Retrieve from the project's documents; defaults to the conversation's.",
    )
    document_ids = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        default=list,
        max_length=100,
        help_text="Narrow retrieval to these documents of the conversation's project.",
    )

    def validate_content(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.", code="blank")
        return value


class ChatConversationSerializer(serializers.ModelSerializer[ChatConversation]):
    user_id = serializers.UUIDField(read_only=True)
    project_id = serializers.UUIDField(
        required=False, allow_null=True, help_text="A project you may view, or null."
    )

    class Meta:
        model = ChatConversation
        fields = [
            "id",
            "user_id",
            "project_id",
            "title",
            "use_documents",
            "auto_generated_title",
            "title_generation_task_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "auto_generated_title",
            "title_generation_task_id",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"title": {"min_length": 1}}


class ChatConversationDetailSerializer(ChatConversationSerializer):
    messages = ChatMessageSerializer(many=True, read_only=True)

    class Meta(ChatConversationSerializer.Meta):
        fields = [*ChatConversationSerializer.Meta.fields, "messages"]


class ChatTitleGenerationSerializer(ChatConversationDetailSerializer):
    """The conversation, plus upstream's `message` (its generate-title answered a Message)."""

    message = serializers.CharField(read_only=True)

    class Meta(ChatConversationDetailSerializer.Meta):
        fields = [*ChatConversationDetailSerializer.Meta.fields, "message"]


class ChatConversationTitleSerializer(serializers.Serializer[Any]):
    title = serializers.CharField(max_length=255, min_length=1)
