"""Celery entry points: ids in, the services do the work.

`document_process` is `acks_late` with `reject_on_worker_lost`: a broker that redelivers
unacknowledged messages (Redis) runs it again after a worker dies, and the pipeline is
idempotent. The filesystem broker loses a message whose worker was killed; the sweeper
(`documents_requeue_stuck`, on the beat schedule) re-queues such documents.

An unreachable embedding service is retried by Celery (`autoretry_for`, with backoff and
jitter from settings) up to `DOCUMENT_EMBEDDING_RETRIES` times; when those are spent the
task fails and the document ends `failed` with the reason.
"""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from django.conf import settings

from apps.projects import services


class DocumentTask(Task):
    def on_failure(self, exc: Exception, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        # Only the last attempt gets here: the earlier ones were retries.
        if isinstance(exc, services.TransientEmbeddingError):
            document_id = kwargs.get("document_id") or args[0]
            services.document_mark_failed(document_id=document_id, message=exc.message)


@shared_task(
    base=DocumentTask,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(services.TransientEmbeddingError,),
    max_retries=settings.DOCUMENT_EMBEDDING_RETRIES,
    retry_backoff=settings.TASK_RETRY_BACKOFF,
    retry_backoff_max=settings.TASK_RETRY_BACKOFF_MAX,
    retry_jitter=True,
    bind=True,
)
def document_process(self: DocumentTask, document_id: str) -> str | None:
    """Process one document; returns its final status (None if the row is gone)."""
    return services.document_ingest(
        document_id=document_id,
        raise_transient=True,
        # One key per attempt: a retry embeds (and pays) again and is counted again;
        # a replay of the same attempt's ledger rows is not.
        call_key=f"{self.request.id}:{self.request.retries}" if self.request.id else None,
    )


@shared_task(acks_late=True)
def documents_requeue_stuck() -> dict[str, int]:
    """Re-queue documents stuck in pending/processing (see the service for the rules)."""
    return services.documents_requeue_stuck()
