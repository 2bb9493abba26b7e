"""Bulk writes: COPY into a temporary table, then one INSERT ... ON CONFLICT.

A row-per-statement insert into a table with a live HNSW index runs at a few hundred
rows per second; COPY removes the per-row round trip and parsing, so the index update
is the only per-row cost left (see docs/benchmarks.md).
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Sequence
from typing import Any

import psycopg
from django.db import connection, transaction
from pgvector.psycopg.vector import register_vector_info
from psycopg.types import TypeInfo

from launch.vector_store.models import EmbeddingVersion, VectorRecord
from launch.vector_store.services.types import (
    RecordIn,
    Source,
    WriteResult,
    content_type_of,
    resolve_source,
)
from launch.vector_store.services.versions import version_named

_CREATE_INCOMING = """
DROP TABLE IF EXISTS pg_temp.vector_store_incoming;
CREATE TEMPORARY TABLE vector_store_incoming (
    source_type_id integer NOT NULL,
    source_id uuid NOT NULL,
    scope_id uuid NOT NULL,
    chunk_index integer NOT NULL,
    content text NOT NULL,
    metadata jsonb NOT NULL,
    embedding vector NOT NULL,
    embedding_model varchar(200) NOT NULL,
    version_id bigint NOT NULL
) ON COMMIT DROP
"""
_COPY = (
    "COPY vector_store_incoming (source_type_id, source_id, scope_id, chunk_index, content,"
    " metadata, embedding, embedding_model, version_id) FROM STDIN WITH (FORMAT BINARY)"
)
_COPY_TYPES = ["int4", "uuid", "uuid", "int4", "text", "jsonb", "vector", "varchar", "int8"]
# The WHERE clause skips rows that did not change: every updated tuple is a new HNSW
# insertion, so re-running an ingestion must not rewrite identical chunks.
_MERGE = """
INSERT INTO vector_store_vectorrecord AS r
    (id, source_type_id, source_id, scope_id, chunk_index, content, metadata, embedding,
     embedding_model, version_id, created_at)
SELECT gen_random_uuid(), i.source_type_id, i.source_id, i.scope_id, i.chunk_index,
       i.content, i.metadata, i.embedding, i.embedding_model, i.version_id, now()
FROM vector_store_incoming i
ON CONFLICT (version_id, source_type_id, source_id, chunk_index) DO UPDATE SET
    scope_id = EXCLUDED.scope_id,
    content = EXCLUDED.content,
    metadata = EXCLUDED.metadata,
    embedding = EXCLUDED.embedding
WHERE (r.scope_id, r.content, r.metadata, r.embedding)
    IS DISTINCT FROM (EXCLUDED.scope_id, EXCLUDED.content, EXCLUDED.metadata,
                      EXCLUDED.embedding)
"""

_registered: weakref.WeakSet[psycopg.Connection[Any]] = weakref.WeakSet()


def register_vector_adapters() -> None:
    """Teach Django's psycopg connection pgvector's binary format (once per connection)."""
    connection.ensure_connection()
    raw: psycopg.Connection[Any] = connection.connection
    if raw not in _registered:
        register_vector_info(raw, TypeInfo.fetch(raw, "vector"))
        _registered.add(raw)


def versions_of(records: Sequence[RecordIn]) -> dict[str, EmbeddingVersion]:
    """The version of each model name the records carry (unknown names are registered,
    see `versions.version_named`)."""
    versions: dict[str, EmbeddingVersion] = {}
    for record in records:
        name = record.embedding_model
        if name not in versions:
            version = version_named(name, dimensions=len(record.embedding))
            assert version is not None
            versions[name] = version
    return versions


def _rows(records: Sequence[RecordIn]) -> list[tuple[Any, ...]]:
    versions = versions_of(records)
    seen: set[tuple[str, int, uuid.UUID, int]] = set()
    rows = []
    for record in records:
        type_id = content_type_of(record.source_type).pk
        source_id = uuid.UUID(str(record.source_id))
        version = versions[record.embedding_model]
        key = (version.name, type_id, source_id, record.chunk_index)
        if key in seen:
            # ON CONFLICT cannot update one row twice in a statement; say which input.
            raise ValueError(f"duplicate chunk in one upsert: {key}")
        seen.add(key)
        if version.state == EmbeddingVersion.State.RETIRED:
            raise ValueError(f"the embedding version {version.name!r} is retired")
        if len(record.embedding) != version.dimensions:
            raise ValueError(
                f"embedding of chunk {key} has {len(record.embedding)} dimensions, "
                f"the version {version.name!r} holds {version.dimensions}"
            )
        rows.append(
            (
                type_id,
                source_id,
                uuid.UUID(str(record.scope_id)),
                record.chunk_index,
                # PostgreSQL text cannot hold NUL; extracted PDFs sometimes contain it.
                record.content.replace("\x00", ""),
                dict(record.metadata),
                record.embedding,
                version.name,
                version.pk,
            )
        )
    return rows


def upsert(records: Sequence[RecordIn]) -> int:
    """Insert or replace chunks, keyed by (source, chunk_index), in the caller's transaction.

    Side effects: writes `vector_store_vectorrecord` rows (and their index entries).
    Returns how many rows were inserted or changed; identical re-upserts count 0.
    """
    if not records:
        return 0
    rows = _rows(records)
    with transaction.atomic():
        # Before the cursor exists: a cursor copies its connection's adapters when made.
        register_vector_adapters()
        with connection.cursor() as cursor:
            cursor.execute(_CREATE_INCOMING)
            with cursor.copy(_COPY) as copy:
                copy.set_types(_COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
            cursor.execute(_MERGE)
            return int(cursor.rowcount)


@transaction.atomic
def replace_source(source: Source, records: Sequence[RecordIn]) -> WriteResult:
    """Make `records` the complete set of chunks of `source`, in the embedding versions
    the records carry (every version when `records` is empty).

    Side effects: upserts the records and deletes the source's other chunks of those
    versions, so a document re-processed into fewer chunks leaves none behind, and the
    other version of a rollout keeps its own copy.
    """
    content_type, source_id = resolve_source(source)
    for record in records:
        if (content_type_of(record.source_type), uuid.UUID(str(record.source_id))) != (
            content_type,
            source_id,
        ):
            raise ValueError("replace_source got a record of another source")
    written = upsert(records)
    stale = VectorRecord.objects.filter(source_type=content_type, source_id=source_id)
    deleted = 0
    if not records:
        deleted, _ = stale.delete()
    for version in versions_of(records).values():
        kept = [r.chunk_index for r in records if r.embedding_model == version.name]
        removed, _ = stale.filter(version=version).exclude(chunk_index__in=kept).delete()
        deleted += removed
    return WriteResult(written=written, deleted=deleted)


@transaction.atomic
def delete(*, source: Source | None = None, scope_id: uuid.UUID | None = None) -> int:
    """Delete the chunks of a source, of a scope, or of a source within a scope.

    Side effects: deletes `vector_store_vectorrecord` rows. Returns how many.
    """
    if source is None and scope_id is None:
        raise ValueError("delete() needs a source or a scope_id; refusing to empty the store")
    queryset = VectorRecord.objects.all()
    if source is not None:
        content_type, source_id = resolve_source(source)
        queryset = queryset.filter(source_type=content_type, source_id=source_id)
    if scope_id is not None:
        queryset = queryset.filter(scope_id=scope_id)
    deleted, _ = queryset.delete()
    return deleted
