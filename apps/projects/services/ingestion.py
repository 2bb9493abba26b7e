"""The ingestion pipeline: extract -> chunk -> embed in batches -> store -> completed.

Progress is written with small autocommitted UPDATEs between batches, so a client polling
`/documents/{id}/progress` sees `processed_chunks` grow. The vectors are written at the
end in one transaction with `replace_source`, so re-running the pipeline (a retry, a
redelivered message, the sweeper) replaces the document's chunks instead of adding any.
That transaction also marks the document completed: before it, however many chunks are
embedded, `progress_percentage` stays below 100 (models.Document).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.projects.models import Document
from apps.projects.services.documents import document_claim, document_mark_failed
from launch.ai.chunking import Chunk, chunk_pages, estimate_tokens
from launch.ai.embeddings import (
    EmbeddingProvider,
    EmbeddingResponseError,
    EmbeddingServiceError,
)
from launch.ai.extraction import ExtractionError, extract_pages_limited
from launch.ai.metering import attributed, metered
from launch.metrics import observe_ingestion
from launch.vector_store.services import RecordIn, replace_source
from launch.vector_store.services.versions import live_versions, provider_for

logger = logging.getLogger(__name__)

STATUS = Document.Status
SOURCE_TYPE = "projects.document"
GENERIC_FAILURE = "Processing failed because of an internal error; try again later."


class TransientEmbeddingError(Exception):
    """The embedding service is unreachable or overloaded: worth retrying later."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def embedding_failure_message(error: EmbeddingServiceError) -> str:
    return f"The embedding service failed: {error}"


def document_ingest(
    *, document_id: uuid.UUID | str, raise_transient: bool = False, call_key: str | None = None
) -> str | None:
    """Process one document from its stored file to searchable chunks.

    Returns the final status, or None when the row is gone. Failures end `failed` with a
    readable `error_message`; an unreachable embedding service raises
    TransientEmbeddingError instead when `raise_transient` (the task retries it later).
    `call_key` names this run (a task attempt) so that each embedding batch is written to
    the usage ledger once, however often its record is replayed.
    Side effects: updates the row as it goes; replaces the document's vector records.
    """
    if not document_claim(document_id=document_id):
        return None
    chunks = 0
    try:
        chunks = _run(document_id, call_key)
    except ExtractionError as error:
        document_mark_failed(document_id=document_id, message=error.message)
    except EmbeddingResponseError as error:
        document_mark_failed(document_id=document_id, message=embedding_failure_message(error))
    except EmbeddingServiceError as error:
        if raise_transient:
            raise TransientEmbeddingError(embedding_failure_message(error)) from error
        document_mark_failed(document_id=document_id, message=embedding_failure_message(error))
    except Document.DoesNotExist:
        return None
    except Exception:
        logger.exception("processing document %s failed", document_id)
        document_mark_failed(document_id=document_id, message=GENERIC_FAILURE)
    status = Document.objects.filter(pk=document_id).values_list("status", flat=True).first()
    if status is None:
        return None
    logger.info(
        "document %s processed: %s",
        document_id,
        status,
        extra={"document_id": str(document_id), "status": str(status)},
    )
    if status in (STATUS.COMPLETED, STATUS.FAILED):
        observe_ingestion(outcome=str(status), chunks=chunks if status == STATUS.COMPLETED else 0)
    return str(status)


def _run(document_id: uuid.UUID | str, call_key: str | None = None) -> int:
    """Extract, chunk, embed and store; returns the number of chunks stored."""
    document = Document.objects.select_related("project").get(pk=document_id)
    with document.file.open("rb") as handle:
        data = handle.read()
    pages = extract_pages_limited(data, document.file_type)
    chunks = chunk_pages(pages)
    if not chunks:
        raise ExtractionError("The document contains no extractable text.")
    _progress(document_id, total_chunks=len(chunks), processed_chunks=0)
    # Every live version: the active one and, while a model change is being built,
    # the new one, so both stay complete and either can serve the project's searches.
    records: list[RecordIn] = []
    who = {
        "user": document.uploaded_by_id,
        "project_id": document.project_id,
        "team_id": document.project.team_id,
    }
    with attributed(**who, document_id=document.pk):
        for number, version in enumerate(live_versions(scope_id=document.project_id)):
            records += _embed(
                document,
                chunks,
                provider_for(version),
                version.name,
                report=number == 0,
                call_key=call_key and f"{call_key}:{version.name}",
            )
    with transaction.atomic():
        # The lock orders us against a concurrent delete: if the row is gone, writing
        # vectors now would leave orphans; if it is there, the delete waits for us.
        if not Document.objects.select_for_update().filter(pk=document.pk).exists():
            raise Document.DoesNotExist
        replace_source(document, records)
        now = timezone.now()
        Document.objects.filter(pk=document.pk).update(
            status=STATUS.COMPLETED,
            total_chunks=len(chunks),
            processed_chunks=len(chunks),
            estimated_tokens=sum(estimate_tokens(chunk.content) for chunk in chunks),
            error_message=None,
            processing_completed_at=now,
            updated_at=now,
        )
    return len(chunks)


def _embed(
    document: Document,
    chunks: Sequence[Chunk],
    provider: EmbeddingProvider,
    version: str,
    *,
    report: bool,
    call_key: str | None = None,
) -> list[RecordIn]:
    batch_size = max(1, int(settings.EMBEDDING_BATCH_SIZE))
    records: list[RecordIn] = []
    for start in range(0, len(chunks), batch_size):
        batch = chunks[start : start + batch_size]
        texts = [chunk.content for chunk in batch]
        with metered(
            "ingest",
            provider,
            input_estimate=sum(estimate_tokens(text) for text in texts),
            idempotency_key=call_key and f"ingest:{call_key}:{start}",
        ):
            vectors = provider.embed_documents(texts)
        records.extend(
            RecordIn(
                source_type=SOURCE_TYPE,
                source_id=document.pk,
                scope_id=document.project_id,
                chunk_index=chunk.index,
                content=chunk.content,
                embedding=vector,
                embedding_model=version,
                metadata=_metadata(document, chunk),
            )
            for chunk, vector in zip(batch, vectors, strict=True)
        )
        if report:
            _progress(document.pk, processed_chunks=len(records))
    return records


def _metadata(document: Document, chunk: Chunk) -> dict[str, object]:
    return {
        "source": SOURCE_TYPE,
        "page_number": chunk.page_number,
        "filename": document.filename,
        "document_type": document.document_type,
        "file_type": document.file_type,
        **chunk.metadata,
    }


def _progress(document_id: uuid.UUID | str, **fields: int) -> None:
    Document.objects.filter(pk=document_id).update(updated_at=timezone.now(), **fields)
