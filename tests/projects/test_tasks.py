"""The Celery tasks run in-process (`apply`): embedding-service retries, the sweeper."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.projects import tasks
from apps.projects.models import Document
from apps.projects.services import TransientEmbeddingError, documents_requeue_stuck
from tests.projects.conftest import retry_waits, upload
from tests.support.llm_server import LLMServer

pytestmark = [pytest.mark.django_db, pytest.mark.promise(1)]


@pytest.fixture
def embedding_server(settings):
    """EMBEDDING_PROVIDER=openai against a real loopback server, without provider-level
    retries so each task attempt is one request."""
    with LLMServer(dimensions=settings.EMBEDDING_DIMENSIONS) as server:
        settings.EMBEDDING_PROVIDER = "openai"
        settings.EMBEDDING_BASE_URL = server.url
        settings.EMBEDDING_MODEL = server.model
        settings.EMBEDDING_MAX_RETRIES = 0
        settings.EMBEDDING_TIMEOUT = 5
        yield server


def test_an_unavailable_embedding_service_is_retried_then_fails_with_a_reason(
    project, embedding_server, monkeypatch
):
    monkeypatch.setattr(tasks.document_process, "max_retries", 2)
    embedding_server.fail_next(503, times=10)
    document = upload(project=project)
    result = tasks.document_process.apply(args=[str(document.pk)])
    document.refresh_from_db()
    assert result.failed()  # shown as a failed task in the admin, with its reason
    assert isinstance(result.result, TransientEmbeddingError)
    assert document.status == "failed"
    assert "embedding service" in str(document.error_message)
    assert len(embedding_server.requests_to("/embeddings")) == 3  # first try + 2 retries


def test_an_embedding_service_that_recovers_completes_the_document(
    project, embedding_server, monkeypatch
):
    monkeypatch.setattr(tasks.document_process, "max_retries", 3)
    embedding_server.fail_next(500, times=2)
    document = upload(project=project)
    assert tasks.document_process.apply(args=[str(document.pk)]).get() == "completed"
    document.refresh_from_db()
    assert (document.status, document.error_message) == ("completed", None)


def test_a_malformed_embedding_response_fails_without_retrying(project, embedding_server):
    embedding_server.malformed_next(times=10)
    document = upload(project=project)
    tasks.document_process.apply(args=[str(document.pk)])
    document.refresh_from_db()
    assert document.status == "failed"
    assert len(embedding_server.requests_to("/embeddings")) == 1


def test_the_task_returns_quietly_when_the_row_is_gone(project):
    document = upload(project=project)
    Document.objects.filter(pk=document.pk).delete()
    assert tasks.document_process.apply(args=[str(document.pk)]).get() is None


def test_retry_waits_are_jittered_below_a_growing_capped_backoff(
    project, embedding_server, monkeypatch, settings
):
    monkeypatch.setattr(tasks.document_process, "max_retries", 6)
    embedding_server.fail_next(503, times=10)
    document = upload(project=project)
    with retry_waits() as waits:
        tasks.document_process.apply(args=[str(document.pk)])
    ceilings = [
        min(settings.TASK_RETRY_BACKOFF * 2**n, settings.TASK_RETRY_BACKOFF_MAX) for n in range(6)
    ]
    assert ceilings == [10, 20, 40, 80, 160, 300]
    assert len(waits) == 6
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(waits, ceilings, strict=True))


def age(document, minutes, **fields):
    Document.objects.filter(pk=document.pk).update(
        updated_at=timezone.now() - timedelta(minutes=minutes), **fields
    )


def test_sweeper_requeues_documents_stuck_past_the_timeout(
    project, settings, django_capture_on_commit_callbacks
):
    settings.DOCUMENT_STUCK_AFTER_MINUTES = 10
    pending, processing, fresh, done = (upload(project=project) for _ in range(4))
    age(pending, 11)
    age(processing, 30, status="processing", processed_chunks=3, attempts=1)
    age(fresh, 2, status="processing", attempts=1)
    age(done, 60, status="completed")
    with django_capture_on_commit_callbacks() as callbacks:
        counts = tasks.documents_requeue_stuck.apply().get()
    assert counts == {"requeued": 2, "failed": 0}
    assert len(callbacks) == 2
    for document in (pending, processing):
        document.refresh_from_db()
        assert (document.status, document.processed_chunks) == ("pending", 0)
    assert Document.objects.get(pk=fresh.pk).status == "processing"
    assert Document.objects.get(pk=done.pk).status == "completed"


def test_sweeper_fails_a_poison_document_after_the_attempts_budget(project, settings):
    settings.DOCUMENT_MAX_ATTEMPTS = 3
    document = upload(project=project)
    age(document, 60, status="processing", attempts=3)
    assert documents_requeue_stuck() == {"requeued": 0, "failed": 1}
    document.refresh_from_db()
    assert document.status == "failed"
    assert "3 attempts" in str(document.error_message)


def test_each_task_has_soft_and_hard_time_limits_from_settings(settings):
    from apps.chat.tasks import conversation_generate_title
    from launch.vector_store.tasks import rollout_scope

    for task in (tasks.document_process, rollout_scope):
        assert (task.soft_time_limit, task.time_limit) == (
            settings.INGESTION_TASK_SOFT_TIME_LIMIT,
            settings.INGESTION_TASK_TIME_LIMIT,
        )
    app = conversation_generate_title.app
    assert (app.conf.task_soft_time_limit, app.conf.task_time_limit) == (
        settings.TASK_SOFT_TIME_LIMIT,
        settings.TASK_TIME_LIMIT,
    )
    assert settings.TASK_SOFT_TIME_LIMIT < settings.TASK_TIME_LIMIT
