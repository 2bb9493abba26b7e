"""Changing the embedding model without downtime: build alongside, switch per scope.

1. `rollout_start` registers the target version (with its HNSW index) next to the
   active one and queues one `rollout_scope` task per scope.
2. Each scope task re-embeds the scope's chunks from the text the store already holds
   (no re-extraction, any source type), one source at a time, so an interrupted
   build resumes with the sources still missing. Writers write both versions meanwhile.
3. When no chunk of the scope is missing from the new version, the scope switches in one
   transaction (`ScopeVersion`): its searches use the new model from the next query on.
4. When no scope is missing anything, the new version becomes the active one and the old
   one is retired; `version_drop` then deletes its rows and its index.

"Done" is always decided by an anti-join of the two versions, never by counters, so new
documents, deletions and re-processing during the rollout cannot make it switch early.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from launch.ai.embeddings import EmbeddingConfig
from launch.vector_store.models import EmbeddingVersion, ScopeVersion, VectorRecord
from launch.vector_store.services.types import RecordIn
from launch.vector_store.services.versions import (
    STATE,
    VersionError,
    active_version,
    provider_for,
    rollout_target,
    version_index_create,
    version_index_drop,
    version_register,
)
from launch.vector_store.services.writes import replace_source

logger = logging.getLogger(__name__)

DROP_BATCH = 5_000

# Chunks of the old version with no identical chunk (same source, index and text) in the
# new one. Both lookups are served by the unique (version, source, chunk) index.
_MISSING = """
SELECT DISTINCT o.source_type_id, o.source_id
FROM vector_store_vectorrecord o
WHERE o.version_id = %(old)s {scope}
  AND NOT EXISTS (
    SELECT 1 FROM vector_store_vectorrecord n
    WHERE n.version_id = %(new)s AND n.source_type_id = o.source_type_id
      AND n.source_id = o.source_id AND n.chunk_index = o.chunk_index
      AND n.content = o.content
  )
LIMIT %(limit)s
"""


def _missing(
    old: EmbeddingVersion, new: EmbeddingVersion, scope_id: uuid.UUID | None, limit: int
) -> list[tuple[int, uuid.UUID]]:
    scope = "" if scope_id is None else "AND o.scope_id = %(scope)s"
    with connection.cursor() as cursor:
        cursor.execute(
            _MISSING.format(scope=scope),
            {"old": old.pk, "new": new.pk, "scope": scope_id, "limit": limit},
        )
        return [(int(type_id), source_id) for type_id, source_id in cursor.fetchall()]


def rollout_start(
    *, config: EmbeddingConfig, scopes: list[uuid.UUID] | None = None, enqueue: bool = True
) -> EmbeddingVersion:
    """Start (or resume) building the version of `config` alongside the active one.

    `scopes` limits which scopes are queued now (the version becomes active only when
    every scope is done). Raises VersionError when `config` is already the active
    version or another rollout is running. Side effects: registers the version and its
    index; sets the counters; queues `rollout_scope` tasks after commit (`enqueue`).
    """
    active = active_version()
    target = rollout_target()
    version = version_register(config=config, state=STATE.BUILDING, create_index=False)
    if version.pk == active.pk:
        raise VersionError(f"{version.name} is already the active embedding version")
    if target is not None and target.pk != version.pk:
        raise VersionError(f"another rollout is running ({target.name}); finish or cancel it first")
    if version.state == STATE.RETIRED:
        raise VersionError(f"{version.name} was retired; its rows are being dropped")
    version_index_create(version=version, defer=True)  # IF NOT EXISTS: resuming is fine
    old_rows = VectorRecord.objects.filter(version=active)
    all_scopes = list(old_rows.values_list("scope_id", flat=True).distinct())
    switched = ScopeVersion.objects.filter(version=version).count()
    with transaction.atomic():
        EmbeddingVersion.objects.filter(pk=version.pk).update(
            replaces=active,
            started_at=version.started_at or timezone.now(),
            scopes_total=len(all_scopes),
            scopes_done=switched,
            sources_total=old_rows.values("source_type_id", "source_id").distinct().count(),
            last_error="",
        )
        version.refresh_from_db()
        todo = [s for s in (scopes if scopes is not None else all_scopes) if s in set(all_scopes)]
        if enqueue:
            transaction.on_commit(lambda: _enqueue(version, todo))
    if not all_scopes:
        rollout_finish(version=version)
    return version


def _enqueue(version: EmbeddingVersion, scopes: list[uuid.UUID]) -> None:
    from launch.vector_store.tasks import rollout_scope

    for scope_id in scopes:
        rollout_scope.delay(version.pk, str(scope_id))


def rollout_build_scope(
    *,
    version_id: int,
    scope_id: uuid.UUID,
    on_source: Callable[[], None] | None = None,
) -> bool:
    """Embed the scope's missing sources with the new version, then switch the scope.

    Returns True when the scope searches the new version afterwards (False when the
    rollout was cancelled or finished meanwhile). Embedding errors propagate (the task
    retries). Side effects: writes the new version's rows; may switch the scope and
    finish the rollout.
    """
    version = EmbeddingVersion.objects.filter(pk=version_id, state=STATE.BUILDING).first()
    if version is None or version.replaces is None:
        return False
    old = version.replaces
    provider = provider_for(version)
    while batch := _missing(old, version, scope_id, limit=20):
        for type_id, source_id in batch:
            rebuild_source(old, version, provider, type_id, source_id)
            EmbeddingVersion.objects.filter(pk=version.pk).update(
                sources_done=F("sources_done") + 1
            )
            if on_source is not None:
                on_source()
    return rollout_switch_scope(version=version, scope_id=scope_id)


def rebuild_source(
    old: EmbeddingVersion,
    new: EmbeddingVersion,
    provider: object,
    type_id: int,
    source_id: uuid.UUID,
) -> None:
    rows = list(
        VectorRecord.objects.filter(version=old, source_type_id=type_id, source_id=source_id)
        .order_by("chunk_index")
        .values_list("chunk_index", "content", "metadata", "scope_id")
    )
    vectors = provider.embed_documents([row[1] for row in rows])  # type: ignore[attr-defined]
    content_type = ContentType.objects.get_for_id(type_id)
    with transaction.atomic():
        # The source may have been re-processed or deleted while we embedded: write only
        # if the old version still holds exactly what was embedded (else the next pass
        # sees the writer's own copy, or nothing).
        current = list(
            VectorRecord.objects.select_for_update()
            .filter(version=old, source_type_id=type_id, source_id=source_id)
            .order_by("chunk_index")
            .values_list("chunk_index", "content", "metadata", "scope_id")
        )
        if current != rows:
            return
        replace_source(
            (content_type, source_id),
            [
                RecordIn(
                    source_type=content_type,
                    source_id=source_id,
                    scope_id=scope_id,
                    chunk_index=chunk_index,
                    content=content,
                    embedding=vector,
                    embedding_model=new.name,
                    metadata=metadata,
                )
                for (chunk_index, content, metadata, scope_id), vector in zip(
                    rows, vectors, strict=True
                )
            ],
        )


def rollout_switch_scope(*, version: EmbeddingVersion, scope_id: uuid.UUID) -> bool:
    """Switch one scope to the new version if none of its chunks is missing there.

    Side effects: a ScopeVersion row; the done counter; may finish the rollout.
    """
    with transaction.atomic():
        locked = (
            EmbeddingVersion.objects.select_for_update()
            .filter(pk=version.pk, state=STATE.BUILDING)
            .first()
        )
        if locked is None or locked.replaces is None:
            return False
        if _missing(locked.replaces, locked, scope_id, limit=1):
            return False
        _, created = ScopeVersion.objects.update_or_create(
            scope_id=scope_id, defaults={"version": locked}
        )
        if created:
            EmbeddingVersion.objects.filter(pk=locked.pk).update(scopes_done=F("scopes_done") + 1)
    rollout_finish(version=version)
    return True


def rollout_finish(*, version: EmbeddingVersion) -> bool:
    """Make `version` the active one if no scope misses anything. Returns whether it did.

    Side effects: the old version is retired, the early switches are cleared (they are
    the default now) and `version_drop` is queued for the old version after commit.
    """
    with transaction.atomic():
        locked = (
            EmbeddingVersion.objects.select_for_update()
            .filter(pk=version.pk, state=STATE.BUILDING)
            .first()
        )
        if locked is None or locked.replaces is None:
            return False
        old = EmbeddingVersion.objects.select_for_update().get(pk=locked.replaces.pk)
        if _missing(old, locked, None, limit=1):
            return False
        now = timezone.now()
        # Retire first: at most one version may be active at any statement's end.
        EmbeddingVersion.objects.filter(pk=old.pk).update(state=STATE.RETIRED, retired_at=now)
        EmbeddingVersion.objects.filter(pk=locked.pk).update(
            state=STATE.ACTIVE,
            activated_at=now,
            scopes_done=F("scopes_total"),
            sources_done=F("sources_total"),
        )
        ScopeVersion.objects.filter(version__in=[locked, old]).delete()
        transaction.on_commit(lambda: _enqueue_drop(old))
    logger.info("embedding version %s is active; %s retired", locked.name, old.name)
    return True


def _enqueue_drop(version: EmbeddingVersion) -> None:
    from launch.vector_store.tasks import version_drop as drop_task

    drop_task.delay(version.pk)


def rollout_cancel(*, version: EmbeddingVersion) -> None:
    """Abandon a rollout: scopes that switched go back to the active version (complete,
    since writers kept writing it). Side effects: retires `version`; queues its drop."""
    with transaction.atomic():
        updated = EmbeddingVersion.objects.filter(pk=version.pk, state=STATE.BUILDING).update(
            state=STATE.RETIRED, retired_at=timezone.now()
        )
        if not updated:
            raise VersionError(f"{version.name} is not being built")
        ScopeVersion.objects.filter(version=version).delete()
        transaction.on_commit(lambda: _enqueue_drop(version))


def version_drop(*, version_id: int) -> int:
    """Delete a retired version's rows in batches, then its index. Returns rows deleted.

    Batches keep each transaction short, so writers and vacuum are never held up long.
    """
    version = EmbeddingVersion.objects.filter(pk=version_id, state=STATE.RETIRED).first()
    if version is None:
        return 0
    assert version.pk is not None
    deleted = 0
    while True:
        ids = list(
            VectorRecord.objects.filter(version=version).values_list("pk", flat=True)[:DROP_BATCH]
        )
        if not ids:
            break
        count, _ = VectorRecord.objects.filter(pk__in=ids).delete()
        deleted += count
    version_index_drop(version=version)
    return deleted


def rollout_progress(version: EmbeddingVersion) -> dict[str, int]:
    """Counters for the admin and the command (cheap: no scan of the vector table)."""
    version.refresh_from_db()
    return {
        "scopes_total": version.scopes_total,
        "scopes_done": version.scopes_done,
        "sources_total": version.sources_total,
        "sources_done": min(version.sources_done, version.sources_total),
    }


__all__ = [
    "VersionError",
    "rollout_build_scope",
    "rollout_cancel",
    "rollout_finish",
    "rollout_progress",
    "rollout_start",
    "rollout_switch_scope",
    "version_drop",
]
