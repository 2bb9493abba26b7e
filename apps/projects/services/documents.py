"""Document writes other than upload and processing: edit, delete, retry, the sweeper."""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.projects.models import Document
from launch.vector_store import services as vector_store

logger = logging.getLogger(__name__)

STATUS = Document.Status


class NotRetryable(Exception):
    """Retry was asked for a document that has not failed (the API answers 400)."""


@transaction.atomic
def document_update(*, document: Document, document_type: str | None = None) -> Document:
    """Change the document's label. Side effects: none beyond the row (the label in its
    vectors' metadata is refreshed the next time it is processed)."""
    if document_type is not None:
        label = document_type.strip()
        if not label:
            raise ValidationError({"document_type": ["This field may not be blank."]})
        document.document_type = label[:50]
        document.save(update_fields=["document_type", "updated_at"])
    return document


@transaction.atomic
def document_delete(*, document: Document) -> None:
    """Delete a document. Side effects: deletes its vectors in this transaction and its
    stored file after commit (a rollback keeps both)."""
    vector_store.delete(source=document)
    storage, name = document.file.storage, document.file.name
    document.delete()
    if name:
        transaction.on_commit(lambda: _delete_file(storage, name))


def _delete_file(storage: object, name: str) -> None:
    try:
        storage.delete(name)  # type: ignore[attr-defined]
    except OSError:
        logger.warning("could not delete stored file %s", name, exc_info=True)


@transaction.atomic
def document_requeue(*, document: Document, reset_attempts: bool = False) -> Document:
    """Put a document back to `pending` under a new task id and enqueue it after commit.

    Side effects: updates the row; enqueues `document_process`.
    """
    from apps.projects.services.uploads import enqueue_processing

    document.status = STATUS.PENDING
    document.error_message = None
    document.processed_chunks = 0
    document.processing_completed_at = None
    document.task_id = str(uuid.uuid4())
    if reset_attempts:
        document.attempts = 0
    document.save()
    transaction.on_commit(lambda: enqueue_processing(document))
    return document


@transaction.atomic
def document_retry(*, document: Document) -> Document:
    """Re-process a failed document (a user's retry gets a fresh attempts budget).

    Raises NotRetryable unless the document is `failed`. Side effects: as `document_requeue`.
    """
    locked = Document.objects.select_for_update().get(pk=document.pk)
    if locked.status != STATUS.FAILED:
        raise NotRetryable(f"Only failed documents can be retried; this one is {locked.status}.")
    return document_requeue(document=locked, reset_attempts=True)


def document_reprocess(*, document: Document) -> Document:
    """Re-process any document now (admin action, reindex): attempts start again."""
    return document_requeue(document=document, reset_attempts=True)


def documents_requeue_stuck(*, stuck_after: timedelta | None = None) -> dict[str, int]:
    """Re-queue documents `pending` or `processing` without progress for `stuck_after`
    (default DOCUMENT_STUCK_AFTER_MINUTES): their message was lost or their worker died.
    A document that already used DOCUMENT_MAX_ATTEMPTS attempts is failed instead.

    Side effects: updates rows, enqueues `document_process`. Returns the counts.
    """
    if stuck_after is None:
        stuck_after = timedelta(minutes=settings.DOCUMENT_STUCK_AFTER_MINUTES)
    cutoff = timezone.now() - stuck_after
    requeued = failed = 0
    stuck = Document.objects.filter(
        status__in=[STATUS.PENDING, STATUS.PROCESSING], updated_at__lte=cutoff
    ).values_list("pk", flat=True)
    for pk in list(stuck):
        with transaction.atomic():
            # skip_locked: a worker finishing it right now holds the row; leave it alone.
            document = (
                Document.objects.select_for_update(skip_locked=True)
                .filter(pk=pk, status__in=[STATUS.PENDING, STATUS.PROCESSING])
                .filter(updated_at__lte=cutoff)
                .first()
            )
            if document is None:
                continue
            if document.attempts >= settings.DOCUMENT_MAX_ATTEMPTS:
                document_mark_failed(
                    document_id=document.pk,
                    message=f"Processing did not finish after {document.attempts} attempts.",
                )
                failed += 1
            else:
                document_requeue(document=document)
                requeued += 1
    if requeued or failed:
        logger.info("sweeper: %d documents re-queued, %d failed", requeued, failed)
    return {"requeued": requeued, "failed": failed}


def document_mark_failed(*, document_id: uuid.UUID | str, message: str) -> None:
    """Record a failure the owner can read. Side effects: one UPDATE."""
    Document.objects.filter(pk=document_id).update(
        status=STATUS.FAILED,
        error_message=message,
        processing_completed_at=timezone.now(),
        updated_at=timezone.now(),
    )


def document_claim(*, document_id: uuid.UUID | str) -> bool:
    """Mark a processing attempt as started. False when the row is gone."""
    now = timezone.now()
    return bool(
        Document.objects.filter(pk=document_id).update(
            status=STATUS.PROCESSING,
            error_message=None,
            processed_chunks=0,
            attempts=F("attempts") + 1,
            processing_started_at=now,
            processing_completed_at=None,
            updated_at=now,
        )
    )
