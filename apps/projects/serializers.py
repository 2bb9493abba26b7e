from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from apps.projects.models import MAX_CONTEXT_TOKENS, MIN_CONTEXT_TOKENS, Document, Project
from apps.projects.selectors import project_capacity
from launch.vector_store.services import SEARCH_MODES


class DocumentSerializer(serializers.ModelSerializer[Document]):
    project_id = serializers.UUIDField(read_only=True)
    uploaded_at = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = Document
        fields = [
            "id",
            "project_id",
            "filename",
            "file_type",
            "document_type",
            "file_size",
            "sha256",
            "status",
            "total_chunks",
            "processed_chunks",
            "estimated_tokens",
            "error_message",
            "task_id",
            "uploaded_at",
            "processing_started_at",
            "processing_completed_at",
        ]
        read_only_fields = fields


class DocumentUpdateSerializer(serializers.Serializer[Document]):
    document_type = serializers.CharField(
        max_length=50, required=False, allow_null=True, help_text="A label, e.g. `manual`."
    )


class DocumentUploadSerializer(serializers.Serializer[Any]):
    file = serializers.FileField(help_text="PDF, Word .docx, HTML, Markdown or plain text.")
    document_type = serializers.CharField(
        max_length=50,
        required=False,
        default="other",
        help_text="A label; when it names a format (`pdf`, `docx`, ...) the content must "
        "be of that format.",
    )


class DocumentProgressSerializer(serializers.Serializer[Document]):
    document_id = serializers.UUIDField(source="id")
    status = serializers.ChoiceField(choices=Document.Status.choices)
    total_chunks = serializers.IntegerField()
    processed_chunks = serializers.IntegerField()
    progress_percentage = serializers.FloatField()
    error_message = serializers.CharField(allow_null=True)


class CapacitySerializer(serializers.Serializer[Any]):
    documents_tokens = serializers.IntegerField()
    conversations_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    max_tokens = serializers.IntegerField()
    usage_percentage = serializers.FloatField()
    remaining_tokens = serializers.IntegerField()
    is_near_limit = serializers.BooleanField()
    is_over_limit = serializers.BooleanField()


class ProjectSerializer(serializers.ModelSerializer[Project]):
    user_id = serializers.UUIDField(source="owner_id", read_only=True)
    max_context_tokens = serializers.IntegerField(
        min_value=MIN_CONTEXT_TOKENS, max_value=MAX_CONTEXT_TOKENS, required=False
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "description",
            "system_prompt",
            "max_context_tokens",
            "user_id",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"name": {"min_length": 1}}


class ProjectDetailSerializer(ProjectSerializer):
    """One project with its documents and capacity, as upstream's ProjectPublic."""

    documents = DocumentSerializer(many=True, read_only=True)
    capacity = serializers.SerializerMethodField()

    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "documents", "capacity"]

    @extend_schema_field(CapacitySerializer)
    def get_capacity(self, project: Project) -> dict[str, Any]:
        return CapacitySerializer(project_capacity(project)).data


class ProjectUpdateSerializer(ProjectSerializer):
    name = serializers.CharField(min_length=1, max_length=200, required=False, allow_null=True)
    max_context_tokens = serializers.IntegerField(
        min_value=MIN_CONTEXT_TOKENS, max_value=MAX_CONTEXT_TOKENS, required=False, allow_null=True
    )


class SearchRequestSerializer(serializers.Serializer[Any]):
    query = serializers.CharField(
        min_length=1,
        max_length=settings.SEARCH_QUERY_MAX_CHARS,
        help_text="At most SEARCH_QUERY_MAX_CHARS characters (1,000 by default); the "
        "keyword side uses its first VECTOR_KEYWORD_MAX_TERMS distinct words.",
    )
    project_ids = serializers.ListField(
        child=serializers.UUIDField(), required=False, allow_null=True, max_length=1000
    )
    k = serializers.IntegerField(
        min_value=1, max_value=50, required=False, help_text="Default: SEARCH_DEFAULT_K (10)."
    )
    mode = serializers.ChoiceField(choices=SEARCH_MODES, default="hybrid")
    document_types = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, allow_null=True, max_length=50
    )


class SearchHitSerializer(serializers.Serializer[Any]):
    chunk_id = serializers.UUIDField()
    document_id = serializers.UUIDField()
    project_id = serializers.UUIDField()
    filename = serializers.CharField()
    content = serializers.CharField()
    page_number = serializers.IntegerField(allow_null=True)
    score = serializers.FloatField(help_text="Higher is better; the scale depends on the mode.")


SearchResultsSerializer = inline_serializer(
    "SearchResults",
    {"data": SearchHitSerializer(many=True), "count": serializers.IntegerField(min_value=0)},
)
