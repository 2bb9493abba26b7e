"""Changing the embedding model: build alongside, switch per scope, finish, drop."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from django.contrib.contenttypes.models import ContentType

from launch.ai.embeddings import EmbeddingConfig, get_embedding_provider
from launch.vector_store.models import EmbeddingVersion, ScopeVersion, VectorRecord
from launch.vector_store.services import RecordIn, replace_source, search_traced, upsert
from launch.vector_store.services.rollout import (
    rollout_build_scope,
    rollout_cancel,
    rollout_start,
    version_drop,
)
from launch.vector_store.services.versions import (
    VersionError,
    active_version,
    index_sql,
    live_versions,
    version_for_scopes,
)

pytestmark = pytest.mark.django_db

TEXTS = {
    "otters": "Sea otters use rocks as tools to open shellfish.",
    "basalt": "Basalt columns form as thick lava flows cool and crack.",
    "kelp": "Kelp forests shelter fish along rocky coasts.",
}


def store(scope: uuid.UUID, name: str) -> uuid.UUID:
    """One source of one chunk in `scope`, written to every live version (as writers do)."""
    source = uuid.uuid4()
    records = []
    for version in live_versions(scope_id=scope):
        from launch.vector_store.services.versions import provider_for

        (vector,) = provider_for(version).embed_documents([TEXTS[name]])
        records.append(
            RecordIn(
                source_type="users.user",
                source_id=source,
                scope_id=scope,
                chunk_index=0,
                content=TEXTS[name],
                embedding=vector,
                embedding_model=version.name,
            )
        )
    replace_source(("users.user", source), records)
    return source


def to_dimensions(dimensions: int) -> EmbeddingConfig:
    return dataclasses.replace(EmbeddingConfig.from_settings(), dimensions=dimensions)


def test_a_fresh_install_makes_the_configured_provider_active():
    version = active_version()
    assert version is not None
    assert (version.provider, version.dimensions, version.state) == ("hashing", 384, "active")
    assert version.name == get_embedding_provider().model_name


def test_search_uses_the_old_version_until_the_scope_is_done_then_the_new_one():
    first, second = uuid.uuid4(), uuid.uuid4()
    store(first, "otters")
    store(second, "basalt")
    old = active_version()

    new = rollout_start(config=to_dimensions(128), enqueue=False)

    assert (new.state, new.scopes_total, new.sources_total) == ("building", 2, 2)
    assert version_for_scopes([first]) == old  # nothing built yet
    assert rollout_build_scope(version_id=new.pk, scope_id=first) is True
    # The first scope switched on its own; the other still searches the old model; a
    # search over both uses the old one, complete in both, never a mix.
    assert version_for_scopes([first]) == new
    assert version_for_scopes([second]) == old
    assert version_for_scopes([first, second]) == old
    result = search_traced("otters rocks", scopes=[first], k=3, mode="hybrid")
    assert (result.version, result.dimensions) == (new.name, 128)
    assert result.hits
    assert result.hits[0].content == TEXTS["otters"]

    assert rollout_build_scope(version_id=new.pk, scope_id=second) is True

    new.refresh_from_db()
    old.refresh_from_db()
    assert (new.state, old.state) == ("active", "retired")
    assert not ScopeVersion.objects.exists()
    assert search_traced("lava", scopes=[second], k=3, mode="semantic").version == new.name
    assert version_drop(version_id=old.pk) == 2
    assert not VectorRecord.objects.filter(version=old).exists()


def test_writes_during_a_rollout_land_in_both_versions_so_the_switch_waits_for_none():
    scope = uuid.uuid4()
    store(scope, "otters")
    new = rollout_start(config=to_dimensions(96), enqueue=False)

    store(scope, "kelp")  # a document uploaded while the new model is being built

    assert VectorRecord.objects.filter(version=new).count() == 1
    rollout_build_scope(version_id=new.pk, scope_id=scope)
    new.refresh_from_db()
    assert new.state == "active"
    assert VectorRecord.objects.filter(version=new).count() == 2


def test_an_interrupted_build_resumes_with_what_is_missing():
    scope = uuid.uuid4()
    sources = [store(scope, name) for name in TEXTS]
    new = rollout_start(config=to_dimensions(32), enqueue=False)
    calls = []

    class Interrupted(Exception):
        pass

    def stop_after_one() -> None:
        calls.append(1)
        raise Interrupted

    with pytest.raises(Interrupted):
        rollout_build_scope(version_id=new.pk, scope_id=scope, on_source=stop_after_one)
    assert VectorRecord.objects.filter(version=new).count() == 1
    assert version_for_scopes([scope]) != new

    rollout_start(config=to_dimensions(32), enqueue=False)  # the command run again
    rollout_build_scope(version_id=new.pk, scope_id=scope, on_source=lambda: calls.append(1))

    assert len(calls) == 3  # one before the interruption, the two missing after it
    assert set(VectorRecord.objects.filter(version=new).values_list("source_id", flat=True)) == set(
        sources
    )


def test_a_cancelled_rollout_sends_switched_scopes_back_and_drops_its_rows():
    first, second = uuid.uuid4(), uuid.uuid4()
    store(first, "otters")
    store(second, "kelp")
    old = active_version()
    new = rollout_start(config=to_dimensions(48), enqueue=False)
    rollout_build_scope(version_id=new.pk, scope_id=first)

    rollout_cancel(version=new)

    assert version_for_scopes([first]) == old
    assert version_drop(version_id=new.pk) == 1
    with pytest.raises(VersionError, match="not being built"):
        rollout_cancel(version=new)


def test_only_one_rollout_at_a_time():
    store(uuid.uuid4(), "otters")
    rollout_start(config=to_dimensions(40), enqueue=False)
    with pytest.raises(VersionError, match="another rollout"):
        rollout_start(config=to_dimensions(56), enqueue=False)


def test_each_version_gets_a_partial_hnsw_index_of_its_dimension():
    store(uuid.uuid4(), "otters")
    new = rollout_start(config=to_dimensions(3000), enqueue=False)
    sql = index_sql(new, concurrently=True)
    assert "CONCURRENTLY" in sql
    assert "((embedding::halfvec(3000)) halfvec_cosine_ops)" in sql
    assert sql.endswith(f"WHERE version_id = {new.pk}")
    assert EmbeddingVersion.objects.get(pk=new.pk).dimensions == 3000


def test_too_many_dimensions_are_refused_before_anything_is_written():
    store(uuid.uuid4(), "otters")
    with pytest.raises(VersionError, match="cannot be indexed"):
        rollout_start(config=to_dimensions(5000), enqueue=False)
    assert not EmbeddingVersion.objects.filter(dimensions=5000).exists()


def test_the_planner_uses_the_versions_partial_index(settings):
    from django.db import connection

    scope = uuid.uuid4()
    store(scope, "otters")
    version = active_version()
    upsert(
        [
            RecordIn(
                source_type=ContentType.objects.get_by_natural_key("users", "user"),
                source_id=uuid.uuid4(),
                scope_id=scope,
                chunk_index=0,
                content=f"filler {i}",
                embedding=get_embedding_provider().embed_query(f"filler {i}"),
                embedding_model=version.name,
            )
            for i in range(50)
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        # The version id must be a literal for the planner to match the partial index.
        cursor.execute(
            "EXPLAIN SELECT id FROM vector_store_vectorrecord r WHERE r.version_id = "  # noqa: S608
            f"{int(version.pk)} ORDER BY (r.embedding::vector(384)) <=> %s::vector(384) LIMIT 5",
            [str(get_embedding_provider().embed_query("otters"))],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert version.index_name in plan
