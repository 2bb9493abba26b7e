"""Celery entry points of the vector store: ids in, the services do the work."""

from __future__ import annotations

import uuid

from celery import shared_task
from django.conf import settings

from launch.ai.embeddings import EmbeddingServiceError
from launch.vector_store.models import EmbeddingVersion
from launch.vector_store.services import rollout


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(EmbeddingServiceError,),
    max_retries=5,
    retry_backoff=settings.TASK_RETRY_BACKOFF,
    retry_backoff_max=settings.TASK_RETRY_BACKOFF_MAX,
    retry_jitter=True,
)
def rollout_scope(version_id: int, scope_id: str) -> bool:
    """Build one scope of a rollout and switch it; resumable, so a retry or a redelivery
    continues with the sources still missing. The last embedding error is kept on the
    version for the admin while Celery retries."""
    try:
        return rollout.rollout_build_scope(version_id=version_id, scope_id=uuid.UUID(scope_id))
    except EmbeddingServiceError as error:
        EmbeddingVersion.objects.filter(pk=version_id).update(last_error=str(error)[:2000])
        raise


@shared_task(acks_late=True)
def version_drop(version_id: int) -> int:
    """Delete a retired version's rows and index."""
    return rollout.version_drop(version_id=version_id)
