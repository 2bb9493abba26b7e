"""The ingestion pipeline, called directly: every format completes, every hostile file
fails with a reason the owner can read, and re-processing never duplicates chunks."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType

from apps.projects import services
from apps.projects.models import Document
from launch.vector_store.models import VectorRecord
from launch.vector_store.services import search
from tests.projects.conftest import ingest, upload
from tests.support.documents import (
    make_binary_junk,
    make_docx,
    make_encrypted_pdf,
    make_pdf,
    make_zip_bomb_docx,
)
from tests.support.reliability import record

pytestmark = pytest.mark.django_db


def vectors_of(document):
    return VectorRecord.objects.filter(
        source_type=ContentType.objects.get_for_model(Document), source_id=document.pk
    )


LONG_TEXT = "\n\n".join(
    f"Paragraph {i}: the orchard grows {i} kinds of apples and pears near the river." * 3
    for i in range(40)
)


@pytest.mark.parametrize(
    ("data", "name", "phrase"),
    [
        (b"The aurora appears over Tromso in winter.", "a.txt", "aurora"),
        (b"# Recipes\n\nKnead the sourdough for ten minutes.", "r.md", "sourdough"),
        (
            b"<html><body><h1>Bikes</h1><p>Derailleur tuning guide.</p></body></html>",
            "b.html",
            "Derailleur",
        ),
        (make_pdf(["Intro page", "The glacier retreats every summer."]), "g.pdf", "glacier"),
        (
            make_docx(heading="Ops", paragraphs=["Rotate the backup tapes weekly."]),
            "o.docx",
            "backup",
        ),
    ],
)
def test_each_format_completes_with_chunks_and_is_searchable(project, data, name, phrase):
    document = ingest(project=project, data=data, name=name)
    assert document.status == "completed", document.error_message
    assert document.total_chunks == document.processed_chunks >= 1
    assert document.estimated_tokens > 0
    assert document.processing_completed_at is not None
    records = list(vectors_of(document))
    assert len(records) == document.total_chunks
    assert all(r.scope_id == project.pk for r in records)
    assert records[0].metadata["filename"] == name
    hits = search(phrase, scopes=[project.pk], k=3, mode="keyword")
    assert hits
    assert hits[0].source_id == document.pk


def test_pdf_chunks_keep_their_page_numbers(project):
    document = ingest(
        project=project, data=make_pdf(["alpha " * 300, "omega " * 300]), name="p.pdf"
    )
    pages = {r.metadata["page_number"] for r in vectors_of(document)}
    assert pages == {1, 2}


def test_progress_is_reported_per_batch(project, settings, monkeypatch):
    settings.EMBEDDING_BATCH_SIZE = 2
    settings.CHUNK_SIZE = 200
    settings.CHUNK_OVERLAP = 20
    document = upload(project=project, data=LONG_TEXT.encode())
    seen: list[int] = []
    from launch.ai.embeddings import get_embedding_provider

    provider = get_embedding_provider()
    original = provider.embed_documents

    def spy(texts):
        seen.append(Document.objects.get(pk=document.pk).processed_chunks)
        return original(texts)

    # Observe the row between batches, as a client polling /progress would.
    monkeypatch.setattr(provider, "embed_documents", spy)
    services.document_ingest(document_id=document.pk)
    document.refresh_from_db()
    assert document.status == "completed"
    assert seen == list(range(0, document.total_chunks, 2))


def test_progress_stays_below_100_until_the_vectors_are_stored(
    project, client_for, settings, monkeypatch
):
    settings.EMBEDDING_BATCH_SIZE = 2
    settings.CHUNK_SIZE = 200
    settings.CHUNK_OVERLAP = 20
    document = upload(project=project, data=LONG_TEXT.encode())
    url = f"/api/v1/documents/{document.pk}/progress"
    client = client_for(project.owner)
    at_store: list[dict] = []
    from apps.projects.services import ingestion

    original = ingestion.replace_source

    def observe(source, records):
        # Every chunk is embedded and nothing is stored yet: what a client polls now, or
        # for minutes if the worker dies right here.
        at_store.append(client.get(url).json())
        return original(source, records)

    monkeypatch.setattr(ingestion, "replace_source", observe)
    services.document_ingest(document_id=document.pk)

    (polled,) = at_store
    assert polled["status"] == "processing"
    assert polled["processed_chunks"] == polled["total_chunks"] > 0
    assert polled["progress_percentage"] < 100
    done = client.get(url).json()
    assert (done["status"], done["progress_percentage"]) == ("completed", 100.0)


@pytest.mark.parametrize("status", ["pending", "processing", "failed"])
def test_only_a_completed_document_shows_100(project, status):
    document = upload(project=project)
    Document.objects.filter(pk=document.pk).update(
        status=status, total_chunks=40, processed_chunks=40
    )
    document.refresh_from_db()
    assert document.progress_percentage == 99.0
    document.processed_chunks = 10
    assert document.progress_percentage == 25.0


HOSTILE = [
    (make_encrypted_pdf(["secret"]), "locked.pdf", "password"),
    (b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", "broken.pdf", "PDF"),
    (make_zip_bomb_docx(64), "bomb.docx", "zip bomb"),
]


@pytest.mark.promise(4)
@pytest.mark.parametrize(
    ("data", "name", "fragment"), HOSTILE, ids=["encrypted-pdf", "malformed-pdf", "zip-bomb-docx"]
)
def test_hostile_files_end_failed_with_a_reason(project, data, name, fragment):
    document = upload(project=project, data=data, name=name)  # their magic bytes are fine
    record("hostile files tried", 1)
    status = services.document_ingest(document_id=document.pk)
    document.refresh_from_db()
    assert status == document.status == "failed"
    assert fragment.lower() in str(document.error_message).lower()
    assert "Traceback" not in str(document.error_message)
    assert not vectors_of(document).exists()


def test_binary_junk_named_txt_fails_with_a_reason_even_past_the_upload_check(project):
    # The upload refuses junk (415); a file changed in storage afterwards must still fail
    # cleanly, so the pipeline does not rely on the upload check alone.
    document = upload(project=project, name="junk.txt")
    with document.file.storage.open(document.file.name, "wb") as stored:
        stored.write(make_binary_junk(8192))
    services.document_ingest(document_id=document.pk)
    document.refresh_from_db()
    assert document.status == "failed"
    assert "binary" in str(document.error_message)


def test_a_pdf_over_the_page_cap_fails_with_a_reason(project, settings):
    settings.DOCUMENT_MAX_PAGES = 5
    document = ingest(project=project, data=make_pdf([f"page {i}" for i in range(6)]), name="l.pdf")
    assert document.status == "failed"
    assert "5" in str(document.error_message)
    assert "page" in str(document.error_message).lower()


def test_an_unexpected_error_fails_with_a_generic_message(project, caplog):
    document = upload(project=project)
    document.file.storage.delete(document.file.name)  # the stored file vanished
    services.document_ingest(document_id=document.pk)
    document.refresh_from_db()
    assert document.status == "failed"
    assert document.error_message == services.ingestion.GENERIC_FAILURE
    assert "processing document" in caplog.text


@pytest.mark.promise(5)
def test_processing_twice_leaves_the_same_vector_rows(project):
    document = ingest(project=project, data=LONG_TEXT.encode())
    first = sorted(vectors_of(document).values_list("id", "chunk_index", "content"))
    services.document_ingest(document_id=document.pk)
    second = sorted(vectors_of(document).values_list("id", "chunk_index", "content"))
    assert first == second
    assert len(second) == Document.objects.get(pk=document.pk).total_chunks


def test_processing_a_deleted_document_returns_quietly(project):
    document = upload(project=project)
    services.document_delete(document=document)
    assert services.document_ingest(document_id=document.pk) is None


def test_delete_removes_vectors_now_and_the_file_after_commit(
    project, django_capture_on_commit_callbacks
):
    document = ingest(project=project)
    name = document.file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.document_delete(document=document)
        assert not vectors_of(document).exists()
        assert document.file.storage.exists(name)  # still there until the commit
    assert not document.file.storage.exists(name)


def test_deleting_a_project_removes_its_documents_vectors(project):
    document = ingest(project=project)
    services.project_delete(project=project)
    assert not vectors_of(document).exists()
    assert not Document.objects.filter(pk=document.pk).exists()
