"""End to end with a real Celery worker process: the ledger books exactly the embedding
calls the loopback server received, through a task retry.

The server fails the second embedding request, so the first attempt of the task has
embedded one batch and fails on the next; the task retries (after its 10 s countdown)
and embeds every batch again. Every request the server received is one ledger row: the
first attempt's batch (paid), its failure (an error row, no tokens), and the retry's
batches (paid again), and no row is written twice.
"""

from __future__ import annotations

import uuid

import pytest

from apps.teams.services import team_ensure_personal
from apps.usage.models import ModelCall
from tests.projects.conftest import create_project
from tests.projects.test_e2e import progress, upload, wait_for
from tests.support.celery_worker import CeleryWorker
from tests.support.llm_server import LLMServer
from tests.usage.conftest import embedding_tokens

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker():
    celery = CeleryWorker()
    yield celery
    celery.stop()


def test_a_retried_ingestion_books_each_call_the_server_received_once(
    client_for, member, worker, settings
):
    team = team_ensure_personal(user=member)
    with LLMServer(dimensions=settings.EMBEDDING_DIMENSIONS) as server:
        embedding = {
            "EMBEDDING_PROVIDER": "openai",
            "EMBEDDING_BASE_URL": server.url,
            "EMBEDDING_MODEL": server.model,
            "EMBEDDING_MAX_RETRIES": "0",
            "EMBEDDING_TIMEOUT": "30",
            "EMBEDDING_BATCH_SIZE": "2",
        }
        worker.extra_env.update(embedding)
        for name, value in embedding.items():
            setattr(settings, name, int(value) if value.isdigit() else value)
        server.stall_next(seconds=0)  # the first request is answered normally,
        server.fail_next(503)  # the second fails: the task gives up and retries
        worker.start()

        project = create_project(owner=member)
        client = client_for(member)
        paragraphs = [f"Chart {i}: the pilot sounded channel {i} at low water." for i in range(40)]
        document_id = upload(client, project, "\n\n".join(paragraphs).encode() * 2, "pilot.txt")
        final = wait_for(
            lambda: (p := progress(client, document_id))["status"] in ("completed", "failed") and p,
            "the document to finish after its retry",
            worker,
            timeout=90,
        )
        assert final["status"] == "completed", final
        requests = server.requests_to("/embeddings")

    rows = ModelCall.objects.filter(purpose="ingest").order_by("created_at", "id")
    batches = -(-final["total_chunks"] // 2)
    assert batches >= 2
    assert len(requests) == 2 + batches  # one batch, a failure, then every batch again
    assert rows.count() == len(requests)
    statuses = [row.status for row in rows]
    assert statuses == ["ok", "error"] + ["ok"] * batches
    answered = [requests[0], *requests[2:]]
    assert sum(row.input_tokens for row in rows) == embedding_tokens(answered)
    assert not any(row.tokens_estimated for row in rows if row.status == "ok")
    keys = [row.idempotency_key for row in rows]
    assert all(keys)
    assert len(set(keys)) == len(keys)
    assert {(row.user_id, row.team_id, row.document_id) for row in rows} == {
        (member.pk, team.pk, uuid.UUID(document_id))
    }
