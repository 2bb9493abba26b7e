"""The one table that holds every embedding in Launch.

Apps never query it directly: `launch.vector_store.services` writes and searches it.
The column type of `embedding` is fixed by ``settings.EMBEDDING_DIMENSIONS`` when the
migration runs; changing the dimension needs a new migration (alter the column, rebuild
the HNSW index) followed by ``manage.py reindex``, which re-embeds every source.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from pgvector.django import HnswIndex, VectorField

# Postgres text-search configuration for the generated column and every keyword query;
# the two must agree or the GIN index cannot serve the query.
SEARCH_CONFIG = "english"


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
    embedding = VectorField(dimensions=settings.EMBEDDING_DIMENSIONS)
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
            models.UniqueConstraint(
                fields=["source_type", "source_id", "chunk_index"],
                name="vector_record_source_chunk_uniq",
            )
        ]
        indexes = [
            # ef_construction 32 (pgvector's default is 64, the minimum is 2 * m) costs
            # ~30% less CPU per inserted row, and ingestion is bound by HNSW insertion;
            # a raised ef_search at query time keeps recall >= 0.95 (docs/benchmarks.md).
            HnswIndex(
                fields=["embedding"],
                name="vector_record_embedding_hnsw",
                m=16,
                ef_construction=32,
                opclasses=["vector_cosine_ops"],
            ),
            GinIndex(fields=["search_vector"], name="vector_record_search_gin"),
            # Serves the scope filter, the cheap "how many rows in these scopes" probe
            # that picks the search strategy, and the exact scan of small scopes.
            models.Index(fields=["scope_id", "embedding_model"], name="vector_record_scope_model"),
        ]

    def __str__(self) -> str:
        return f"{self.source_type_id}:{self.source_id}#{self.chunk_index}"
