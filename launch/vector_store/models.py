"""The one table that holds every embedding in Launch, and the embedding versions.

Apps never query it directly: `launch.vector_store.services` writes and searches it.

Every record belongs to one `EmbeddingVersion` (a provider, a model and a dimension).
The `embedding` column is an untyped `vector`, so versions of different dimensions live
side by side; each version gets its own partial HNSW index on
``(embedding::vector(N)) WHERE version_id = <id>`` (created by the versions service), and
searches cast the same way, so the planner picks that version's index. A model change
builds the new version alongside the active one and switches scope by scope
(`services.versions`), so search never mixes models and never runs on an empty index.
"""

from __future__ import annotations

import uuid

from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from pgvector.django import VectorField

# Postgres text-search configuration for the generated column and every keyword query;
# the two must agree or the GIN index cannot serve the query.
SEARCH_CONFIG = "english"


class EmbeddingVersion(models.Model):
    """One embedding configuration whose vectors are (or were) in the store.

    `building`: being filled alongside the active version (or registered by name only,
    e.g. by a test or a benchmark, when `replaces` is empty); `active`: what every scope
    without a switch of its own searches (at most one); `retired`: replaced, its rows are
    being or have been dropped. The counters are progress for the admin and the
    command; the truth of "done" is the anti-join in the versions service.
    """

    class State(models.TextChoices):
        BUILDING = "building"
        ACTIVE = "active"
        RETIRED = "retired"

    name = models.CharField(max_length=200, unique=True, help_text="Stored on every record.")
    provider = models.CharField(max_length=50, help_text="hashing, openai, onnx, ...")
    model = models.CharField(max_length=500, blank=True, help_text="EMBEDDING_MODEL for it.")
    dimensions = models.PositiveIntegerField()
    base_url = models.CharField(max_length=500, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.BUILDING)
    replaces = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    scopes_total = models.PositiveIntegerField(default=0)
    scopes_done = models.PositiveIntegerField(default=0)
    sources_total = models.PositiveIntegerField(default=0)
    sources_done = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "embedding version"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["state"],
                condition=models.Q(state="active"),
                name="embedding_version_one_active",
            ),
            models.UniqueConstraint(
                fields=["provider", "model", "dimensions", "base_url"],
                name="embedding_version_config_uniq",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.state})"

    @property
    def index_name(self) -> str:
        return f"vector_record_hnsw_v{self.pk}"


class ScopeVersion(models.Model):
    """A scope that already switched to a version still being built for the others.

    A scope with no row here searches the active version; the rows go away when the
    version they name becomes the active one.
    """

    scope_id = models.UUIDField(primary_key=True)
    version = models.ForeignKey(EmbeddingVersion, on_delete=models.CASCADE, related_name="+")
    switched_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "scope switched early"

    def __str__(self) -> str:
        return f"{self.scope_id} -> {self.version_id}"


class VectorRecord(models.Model):
    """One chunk of one source (a document, a message, ...) with its embedding.

    `scope_id` is the permission scope (a project id for documents): searches filter on
    it, so a caller who may view a set of scopes sees exactly their rows. It is required
    because a row without a scope could only ever be found by unscoped (admin) searches.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The unique constraint below starts with these two columns, so it is the b-tree
    # index "on the source"; a second index on the FK alone would only slow writes.
    source_type = models.ForeignKey(
        ContentType, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    source_id = models.UUIDField()
    scope_id = models.UUIDField()
    chunk_index = models.PositiveIntegerField()
    content = models.TextField()
    metadata = models.JSONField(default=dict, blank=True)
    # Untyped: each version has its own dimension (see the module docstring).
    embedding = VectorField()
    # No index of its own: the unique constraint below starts with it.
    version = models.ForeignKey(
        EmbeddingVersion, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # The version's name, kept on the row for the admin and for raw reads.
    embedding_model = models.CharField(max_length=200)
    search_vector = models.GeneratedField(
        expression=SearchVector("content", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "vector record"
        constraints = [
            # The version comes first: two versions of one chunk coexist while a new
            # model is built alongside, and "this version of this source" is a prefix.
            models.UniqueConstraint(
                fields=["version", "source_type", "source_id", "chunk_index"],
                name="vector_record_version_source_chunk_uniq",
            )
        ]
        # The HNSW indexes are partial, one per version, created by the versions service
        # (a migration cannot know the versions an installation will have).
        indexes = [
            GinIndex(fields=["search_vector"], name="vector_record_search_gin"),
            # Serves the scope filter, the cheap "how many rows in these scopes" probe
            # that picks the search strategy, and the exact scan of small scopes.
            models.Index(fields=["scope_id", "version"], name="vector_record_scope_version"),
            # Deleting or replacing a source, in every version.
            models.Index(fields=["source_type", "source_id"], name="vector_record_source"),
        ]

    def __str__(self) -> str:
        return f"{self.source_type_id}:{self.source_id}#{self.chunk_index}"
