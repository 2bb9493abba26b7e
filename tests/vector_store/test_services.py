"""Writes: bulk upsert, idempotency, replacing a source, deleting."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from launch.vector_store.models import VectorRecord
from launch.vector_store.services import delete, replace_source, upsert
from tests.vector_store.conftest import MODEL, SOURCE_TYPE, MakeRecord, unit_vector

pytestmark = pytest.mark.django_db


def test_upsert_writes_every_record_in_bulk(make_record: MakeRecord):
    scope = uuid.uuid4()
    source = uuid.uuid4()
    upsert([make_record(scope_id=uuid.uuid4())])  # warms the content type cache
    small = [make_record(scope_id=uuid.uuid4(), seed=i) for i in range(2)]
    records = [
        make_record(
            scope_id=scope,
            source_id=source,
            chunk_index=i,
            content=f"chunk number {i}",
            seed=i,
            metadata={"page": i + 1},
        )
        for i in range(200)
    ]

    # COPY, not one statement per row: the statement count does not grow with the batch.
    with CaptureQueriesContext(connection) as few:
        upsert(small)
    with CaptureQueriesContext(connection) as many:
        written = upsert(records)
    assert len(many) == len(few)

    assert written == 200
    stored = VectorRecord.objects.get(source_id=source, chunk_index=7)
    assert stored.scope_id == scope
    assert stored.content == "chunk number 7"
    assert stored.metadata == {"page": 8}
    assert stored.embedding_model == MODEL
    assert stored.source_type == ContentType.objects.get_by_natural_key("users", "user")
    assert stored.embedding == pytest.approx(unit_vector(7), abs=1e-6)


def test_upsert_fills_the_generated_search_vector(make_record: MakeRecord):
    upsert([make_record(scope_id=uuid.uuid4(), content="Running engines")])

    stored = VectorRecord.objects.get()
    assert str(stored.search_vector) == "'engin':2 'run':1"


def test_upserting_the_same_records_twice_leaves_the_same_rows(make_record: MakeRecord):
    scope, source = uuid.uuid4(), uuid.uuid4()
    records = [
        make_record(scope_id=scope, source_id=source, chunk_index=i, seed=i) for i in range(5)
    ]
    upsert(records)
    first = dict(VectorRecord.objects.values_list("chunk_index", "id"))

    assert upsert(records) == 0  # unchanged rows are not rewritten

    assert dict(VectorRecord.objects.values_list("chunk_index", "id")) == first


def test_upsert_replaces_a_changed_chunk_in_place(make_record: MakeRecord):
    scope, source = uuid.uuid4(), uuid.uuid4()
    upsert([make_record(scope_id=scope, source_id=source, content="old text", seed=1)])
    original_id = VectorRecord.objects.get().id

    new_scope = uuid.uuid4()
    written = upsert(
        [make_record(scope_id=new_scope, source_id=source, content="new text", seed=2)]
    )

    assert written == 1
    stored = VectorRecord.objects.get()
    assert (stored.id, stored.content, stored.scope_id, stored.embedding_model) == (
        original_id,
        "new text",
        new_scope,
        MODEL,
    )
    assert stored.embedding == pytest.approx(unit_vector(2), abs=1e-6)


def test_another_model_of_the_same_chunk_is_stored_alongside(make_record: MakeRecord):
    """A model change builds the new vectors next to the old ones, in any dimension."""
    scope, source = uuid.uuid4(), uuid.uuid4()
    upsert([make_record(scope_id=scope, source_id=source, content="text", seed=1)])

    written = upsert(
        [
            dataclasses.replace(
                make_record(scope_id=scope, source_id=source, content="text"),
                embedding=[0.6, 0.8, 0.0],
                embedding_model="three-d",
            )
        ]
    )

    assert written == 1
    stored = {r.embedding_model: r for r in VectorRecord.objects.filter(source_id=source)}
    assert set(stored) == {MODEL, "three-d"}
    assert stored["three-d"].version.dimensions == 3
    assert list(stored["three-d"].embedding) == pytest.approx([0.6, 0.8, 0.0])


def test_upsert_of_nothing_does_nothing(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert upsert([]) == 0


def test_upsert_rejects_a_chunk_twice_in_one_batch(make_record: MakeRecord):
    source = uuid.uuid4()
    record = make_record(scope_id=uuid.uuid4(), source_id=source)

    with pytest.raises(ValueError, match="duplicate chunk"):
        upsert([record, record])
    assert not VectorRecord.objects.exists()


def test_upsert_rejects_an_embedding_of_the_wrong_size(make_record: MakeRecord):
    upsert([make_record(scope_id=uuid.uuid4())])  # the version now holds 384 dimensions

    with pytest.raises(ValueError, match="dimensions"):
        upsert([make_record(scope_id=uuid.uuid4(), embedding=[0.1] * 8)])


def test_upsert_strips_nul_characters_postgres_text_cannot_hold(make_record: MakeRecord):
    upsert([make_record(scope_id=uuid.uuid4(), content="broken\x00pdf text")])

    assert VectorRecord.objects.get().content == "brokenpdf text"


def test_upsert_runs_in_the_callers_transaction(make_record: MakeRecord):
    def write_then_fail() -> None:
        with transaction.atomic():
            upsert([make_record(scope_id=uuid.uuid4())])
            raise RuntimeError("the caller fails after the upsert")

    with pytest.raises(RuntimeError):
        write_then_fail()

    assert not VectorRecord.objects.exists()


def test_two_upserts_in_one_transaction_both_land(make_record: MakeRecord):
    scope = uuid.uuid4()
    with transaction.atomic():
        upsert([make_record(scope_id=scope, seed=1)])
        upsert([make_record(scope_id=scope, seed=2)])

    assert VectorRecord.objects.filter(scope_id=scope).count() == 2


def test_replace_source_drops_chunks_beyond_the_new_ones(make_record: MakeRecord):
    scope, source = uuid.uuid4(), uuid.uuid4()
    other = make_record(scope_id=scope, content="another document")
    upsert([make_record(scope_id=scope, source_id=source, chunk_index=i, seed=i) for i in range(6)])
    upsert([other])

    result = replace_source(
        (SOURCE_TYPE, source),
        [
            make_record(scope_id=scope, source_id=source, chunk_index=i, seed=100 + i)
            for i in range(2)
        ],
    )

    assert result.written == 2
    assert result.deleted == 4
    kept = VectorRecord.objects.filter(source_id=source).order_by("chunk_index")
    assert [r.chunk_index for r in kept] == [0, 1]
    assert VectorRecord.objects.filter(source_id=other.source_id).exists()


def test_replace_source_with_no_records_empties_the_source(make_record: MakeRecord, user):
    upsert([make_record(scope_id=uuid.uuid4(), source_id=user.pk, chunk_index=i) for i in range(3)])

    result = replace_source(user, [])  # a model instance names its own source

    assert result == (0, 3)
    assert not VectorRecord.objects.exists()


def test_replace_source_refuses_records_of_another_source(make_record: MakeRecord):
    with pytest.raises(ValueError, match="another source"):
        replace_source((SOURCE_TYPE, uuid.uuid4()), [make_record(scope_id=uuid.uuid4())])


def test_delete_by_source_keeps_other_sources(make_record: MakeRecord):
    scope = uuid.uuid4()
    gone, kept = make_record(scope_id=scope), make_record(scope_id=scope, seed=1)
    upsert([gone, kept])

    assert delete(source=(SOURCE_TYPE, gone.source_id)) == 1

    assert list(VectorRecord.objects.values_list("source_id", flat=True)) == [kept.source_id]


def test_delete_by_scope_keeps_other_scopes(make_record: MakeRecord):
    gone_scope, kept_scope = uuid.uuid4(), uuid.uuid4()
    upsert([make_record(scope_id=gone_scope, seed=i) for i in range(3)])
    upsert([make_record(scope_id=kept_scope)])

    assert delete(scope_id=gone_scope) == 3

    assert list(VectorRecord.objects.values_list("scope_id", flat=True)) == [kept_scope]


def test_delete_by_source_and_scope_needs_both_to_match(make_record: MakeRecord):
    record = make_record(scope_id=uuid.uuid4())
    upsert([record])

    assert delete(source=(SOURCE_TYPE, record.source_id), scope_id=uuid.uuid4()) == 0
    assert delete(source=(SOURCE_TYPE, record.source_id), scope_id=record.scope_id) == 1


def test_delete_without_a_target_refuses_to_empty_the_store(make_record: MakeRecord):
    upsert([make_record(scope_id=uuid.uuid4())])

    with pytest.raises(ValueError, match="refusing"):
        delete()
    assert VectorRecord.objects.count() == 1


def test_a_source_chunk_is_unique(make_record: MakeRecord):
    record = make_record(scope_id=uuid.uuid4())
    upsert([record])
    existing = VectorRecord.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        VectorRecord.objects.create(
            source_type=existing.source_type,
            source_id=existing.source_id,
            chunk_index=existing.chunk_index,
            scope_id=uuid.uuid4(),
            content="duplicate",
            embedding=unit_vector(5),
            embedding_model=MODEL,
        )


def test_a_bad_source_type_name_is_rejected(make_record: MakeRecord):
    record = make_record(scope_id=uuid.uuid4())
    with pytest.raises(ValueError, match=r"app_label\.model"):
        upsert([dataclasses.replace(record, source_type="user")])
