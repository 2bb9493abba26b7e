"""Celery entry points of the vector store: ids in, the services do the work."""

from __future__ import annotations

import uuid
from typing import Any

from celery import shared_task

from launch.ai.embeddings import EmbeddingServiceError
from launch.vector_store.models import EmbeddingVersion
from launch.vector_store.services import rollout


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=5)
def rollout_scope(self: Any, version_id: int, scope_id: str) -> bool:
    """Build one scope of a rollout and switch it; resumable, so a retry or a redelivery
    continues with the sources still missing."""
    try:
        return rollout.rollout_build_scope(version_id=version_id, scope_id=uuid.UUID(scope_id))
    except EmbeddingServiceError as error:
        EmbeddingVersion.objects.filter(pk=version_id).update(last_error=str(error)[:2000])
        raise self.retry(countdown=min(300, 10 * 2**self.request.retries)) from error


@shared_task(acks_late=True)
def version_drop(version_id: int) -> int:
    """Delete a retired version's rows and index."""
    return rollout.version_drop(version_id=version_id)
