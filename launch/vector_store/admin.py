"""Read-only admin for vector records (staff inspect chunks, services own the writes:
records belong to their sources, and deleting a document removes its chunks), and the
embedding versions, where a model change is started and watched."""

from __future__ import annotations

import dataclasses
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.search import SearchQuery
from django.db.models import QuerySet
from django.http import HttpRequest

from launch.admin import ReadOnlyAdminMixin
from launch.ai.embeddings import PROVIDERS, EmbeddingConfig
from launch.vector_store.models import SEARCH_CONFIG, EmbeddingVersion, VectorRecord
from launch.vector_store.selectors import record_kinds
from launch.vector_store.services import rollout
from launch.vector_store.services.versions import active_version, config_of, rollout_target


def _kinds(request: HttpRequest) -> list[tuple[int, int]]:
    """The kinds of records stored, read once per request for both filters."""
    kinds: list[tuple[int, int]] | None = getattr(request, "_vector_record_kinds", None)
    if kinds is None:
        kinds = record_kinds()
        request._vector_record_kinds = kinds  # type: ignore[attr-defined]
    return kinds


class EmbeddingModelFilter(admin.SimpleListFilter):
    """The embedding models that have records (not every version ever registered)."""

    title = "embedding model"
    parameter_name = "embedding_model"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        ids = {version for version, _ in _kinds(request)}
        names = EmbeddingVersion.objects.filter(pk__in=ids).order_by("name")
        return [(name, name) for name in names.values_list("name", flat=True)]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[VectorRecord]
    ) -> QuerySet[VectorRecord]:
        value = self.value()
        return queryset.filter(embedding_model=value) if value else queryset


class SourceTypeFilter(admin.SimpleListFilter):
    """The source types that have records, where Django's own filter for a foreign key
    lists every content type of every installed app."""

    title = "source type"
    parameter_name = "source_type"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        ids = {source_type for _, source_type in _kinds(request)}
        types = sorted(ContentType.objects.filter(pk__in=ids), key=str)
        return [(str(content_type.pk), str(content_type)) for content_type in types]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[VectorRecord]
    ) -> QuerySet[VectorRecord]:
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            raise IncorrectLookupParameters(f"Unknown source type {value!r}.")
        return queryset.filter(source_type_id=int(value))


@admin.register(VectorRecord)
class VectorRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "preview",
        "source_type",
        "source_id",
        "chunk_index",
        "scope_id",
        "embedding_model",
        "created_at",
    ]
    list_filter = [EmbeddingModelFilter, SourceTypeFilter]
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


class EmbeddingVersionForm(forms.ModelForm):
    dimensions = forms.IntegerField(
        min_value=0,
        initial=0,
        help_text="0: the model's own (local models); required for hashing and openai.",
    )

    class Meta:
        model = EmbeddingVersion
        fields = ["provider", "model", "dimensions", "base_url"]
        widgets = {"provider": forms.Select(choices=[(p, p) for p in PROVIDERS])}


@admin.register(EmbeddingVersion)
class EmbeddingVersionAdmin(admin.ModelAdmin):
    """Embedding versions and model changes. "Add" starts building a new model alongside
    the active one on the workers; the list shows each rollout's progress."""

    form = EmbeddingVersionForm
    list_display = [
        "name",
        "provider",
        "dimensions",
        "state",
        "progress",
        "rows",
        "last_error",
        "activated_at",
    ]
    list_filter = ["state", "provider"]
    readonly_fields = [
        "name",
        "state",
        "replaces",
        "progress",
        "rows",
        "last_error",
        "created_at",
        "started_at",
        "activated_at",
        "retired_at",
    ]
    actions = ["resume", "cancel", "drop_rows"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ["provider", "model", "dimensions", "base_url"]
        return ["provider", "model", "dimensions", "base_url", *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        if obj is None:
            return []
        return ["provider", "model", "dimensions", "base_url", *self.readonly_fields]

    @admin.display(description="progress")
    def progress(self, obj: EmbeddingVersion) -> str:
        if obj.state != EmbeddingVersion.State.BUILDING or obj.replaces_id is None:
            return "-"
        return (
            f"{obj.scopes_done}/{obj.scopes_total} scopes switched, "
            f"{min(obj.sources_done, obj.sources_total)}/{obj.sources_total} sources"
        )

    @admin.display(description="rows")
    def rows(self, obj: EmbeddingVersion) -> int:
        return VectorRecord.objects.filter(version=obj).count()

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return  # a version's configuration is what its vectors were made with
        config = dataclasses.replace(
            EmbeddingConfig.from_settings(),
            provider=obj.provider,
            model=obj.model,
            dimensions=obj.dimensions,
            base_url=obj.base_url,
        )
        version: EmbeddingVersion | None
        try:
            version = rollout.rollout_start(config=config)
        except Exception as error:  # shown to the operator, who picked the model
            raise_admin_error(request, error)
            version = rollout_target() or active_version()
        obj.pk = version.pk if version else None
        obj.name = version.name if version else ""

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: Any = None) -> Any:
        from django.shortcuts import redirect

        return redirect("admin:vector_store_embeddingversion_changelist")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # versions are retired and dropped, never deleted under their rows

    @admin.action(description="Resume building the selected versions (re-queue their scopes)")
    def resume(self, request: HttpRequest, queryset: QuerySet[EmbeddingVersion]) -> None:
        for version in queryset.filter(state=EmbeddingVersion.State.BUILDING):
            try:
                rollout.rollout_start(config=config_of(version))
            except Exception as error:
                raise_admin_error(request, error)
                continue
            self.message_user(request, f"{version.name}: building resumed on the workers")

    @admin.action(description="Cancel the selected rollouts (scopes go back to the active)")
    def cancel(self, request: HttpRequest, queryset: QuerySet[EmbeddingVersion]) -> None:
        for version in queryset.filter(state=EmbeddingVersion.State.BUILDING):
            rollout.rollout_cancel(version=version)
            self.message_user(request, f"{version.name}: cancelled; its rows are being dropped")

    @admin.action(description="Drop the rows of the selected retired versions")
    def drop_rows(self, request: HttpRequest, queryset: QuerySet[EmbeddingVersion]) -> None:
        from launch.vector_store.tasks import version_drop

        for version in queryset.filter(state=EmbeddingVersion.State.RETIRED):
            version_drop.delay(version.pk)
            self.message_user(request, f"{version.name}: dropping its rows on the workers")


def raise_admin_error(request: HttpRequest, error: Exception) -> None:
    messages.error(request, f"Could not start building that model: {error}")
