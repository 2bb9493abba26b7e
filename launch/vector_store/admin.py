"""Read-only admin for vector records: staff inspect chunks, services own the writes."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.postgres.search import SearchQuery
from django.db.models import QuerySet
from django.http import HttpRequest

from launch.vector_store.models import SEARCH_CONFIG, VectorRecord


@admin.register(VectorRecord)
class VectorRecordAdmin(admin.ModelAdmin):
    list_display = [
        "preview",
        "source_type",
        "source_id",
        "chunk_index",
        "scope_id",
        "embedding_model",
        "created_at",
    ]
    list_filter = ["embedding_model", "source_type"]
    list_select_related = ["source_type"]
    # The search box runs a full-text query on the GIN-indexed column instead of
    # `content ILIKE '%...%'`, which would scan the whole table.
    search_fields = ["content"]
    search_help_text = (
        'Full-text search of the chunk text (English stemming; "quotes" for phrases).'
    )
    fields = [
        "id",
        "source_type",
        "source_id",
        "scope_id",
        "chunk_index",
        "embedding_model",
        "metadata",
        "content",
        "created_at",
    ]
    readonly_fields = [
        "id",
        "source_type",
        "source_id",
        "scope_id",
        "chunk_index",
        "embedding_model",
        "metadata",
        "content",
        "created_at",
    ]
    show_full_result_count = False

    @admin.display(description="content")
    def preview(self, obj: VectorRecord) -> str:
        return obj.content[:80]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[VectorRecord], search_term: str
    ) -> tuple[QuerySet[VectorRecord], bool]:
        if not search_term.strip():
            return queryset, False
        query = SearchQuery(search_term, config=SEARCH_CONFIG, search_type="websearch")
        return queryset.filter(search_vector=query), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Records belong to their sources: deleting a document removes its chunks.
        return False
