"""Celery entry points: ids in, the services do the work.

`document_process` is `acks_late` with `reject_on_worker_lost`: a broker that redelivers
unacknowledged messages (Redis) runs it again after a worker dies, and the pipeline is
idempotent. The filesystem broker loses a message whose worker was killed; the sweeper
(`documents_requeue_stuck`, on the beat schedule) re-queues such documents.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from apps.projects import services


def retry_countdown(retries: int) -> int:
    """Seconds before the next attempt: 10, 20, 40, ... capped at five minutes."""
    return int(min(300, 10 * 2**retries))


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def document_process(self: Any, document_id: str) -> str | None:
    """Process one document; returns its final status (None if the row is gone)."""
    try:
        return services.document_process(
            document_id=document_id,
            raise_transient=True,
            # One key per attempt: a retry embeds (and pays) again and is counted again;
            # a replay of the same attempt's ledger rows is not.
            call_key=f"{self.request.id}:{self.request.retries}" if self.request.id else None,
        )
    except services.TransientEmbeddingError as error:
        if self.request.retries >= settings.DOCUMENT_EMBEDDING_RETRIES:
            services.document_mark_failed(document_id=document_id, message=error.message)
            return "failed"
        raise self.retry(countdown=retry_countdown(self.request.retries)) from error


@shared_task(acks_late=True)
def documents_requeue_stuck() -> dict[str, int]:
    """Re-queue documents stuck in pending/processing (see the service for the rules)."""
    return services.documents_requeue_stuck()
