"""End to end with a real Celery worker process (not eager mode), over the filesystem
broker the test session shares with it.

Kill test: the worker is SIGKILLed while it waits on the embedding service (a loopback
server told to stall), so the kill lands mid-task. With the filesystem broker the message
a killed worker held is gone (its transport cannot redeliver; Redis would, thanks to
`acks_late` + `reject_on_worker_lost`), so the sweeper, called directly here as beat
would, re-queues the document for the restarted worker.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile

from apps.projects.models import Document
from apps.projects.services import documents_requeue_stuck
from launch.vector_store.models import VectorRecord
from tests.projects.conftest import create_project
from tests.support.celery_worker import CeleryWorker
from tests.support.llm_server import LLMServer
from tests.support.reliability import record

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

POLL_TIMEOUT = 40.0


def wait_for(predicate, what, worker, timeout=POLL_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}\n--- worker log ---\n{worker.log()[-4000:]}")


def progress(client, document_id):
    response = client.get(f"/api/v1/documents/{document_id}/progress")
    assert response.status_code == 200
    return response.json()


def upload(client, project, data: bytes, name: str):
    response = client.post(
        f"/api/v1/projects/{project.pk}/documents",
        {"file": ContentFile(data, name=name)},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def search(client, query):
    response = client.post("/api/v1/search", {"query": query, "mode": "hybrid"}, format="json")
    assert response.status_code == 200
    return response.json()["data"]


@pytest.fixture
def worker():
    celery = CeleryWorker()
    yield celery
    celery.stop()


@pytest.mark.promise(1)
def test_upload_is_processed_by_the_worker_found_by_search_and_gone_after_delete(
    client_for, member, worker
):
    worker.start()
    project = create_project(owner=member)
    client = client_for(member)
    text = b"Field notes.\n\nThe narwhal tusk is an elongated canine tooth that senses salinity."
    document_id = upload(client, project, text, "narwhal.txt")

    final = wait_for(
        lambda: (p := progress(client, document_id))["status"] in ("completed", "failed") and p,
        "the document to finish",
        worker,
    )
    assert final["status"] == "completed", final
    assert final["progress_percentage"] == 100.0
    hits = search(client, "narwhal tusk")
    assert hits
    assert hits[0]["document_id"] == document_id
    assert "salinity" in hits[0]["content"]

    assert client.delete(f"/api/v1/documents/{document_id}").status_code == 200
    assert search(client, "narwhal tusk") == []


def test_the_task_log_lines_carry_the_upload_requests_id(client_for, member, worker):
    worker.extra_env["LOG_FORMAT"] = "json"
    worker.start()
    project = create_project(owner=member)
    response = client_for(member).post(
        f"/api/v1/projects/{project.pk}/documents",
        {"file": ContentFile(b"The heron stood in the reeds at dawn.", name="heron.txt")},
        format="multipart",
        HTTP_X_REQUEST_ID="upload-4f2a9c",
    )
    assert response.status_code == 201, response.content
    assert response["X-Request-ID"] == "upload-4f2a9c"
    document_id = response.json()["id"]
    task_id = Document.objects.get(pk=document_id).task_id

    def task_lines() -> list[dict]:
        lines = (json.loads(line) for line in worker.log().splitlines() if line.startswith("{"))
        return [
            line for line in lines if document_id in line["message"] or task_id in line["message"]
        ]

    processed = wait_for(
        lambda: [line for line in task_lines() if line.get("document_id") == document_id],
        "the document's processed line",
        worker,
    )
    assert processed[0]["status"] == "completed"
    assert processed[0]["request_id"] == "upload-4f2a9c"
    # Celery's own line for the task's end, logged in the same pool process, too.
    succeeded = wait_for(
        lambda: [line for line in task_lines() if "succeeded" in line["message"]],
        "the task's succeeded line",
        worker,
    )
    assert succeeded[0]["request_id"] == "upload-4f2a9c"


@pytest.mark.promise(1)
@pytest.mark.promise(5)
def test_a_worker_killed_mid_task_leaves_the_document_to_complete_without_duplicates(
    client_for, member, worker, settings
):
    with LLMServer(dimensions=settings.EMBEDDING_DIMENSIONS) as server:
        embedding = {
            "EMBEDDING_PROVIDER": "openai",
            "EMBEDDING_BASE_URL": server.url,
            "EMBEDDING_MODEL": server.model,
            "EMBEDDING_MAX_RETRIES": "0",
            "EMBEDDING_TIMEOUT": "60",
            "EMBEDDING_BATCH_SIZE": "4",
        }
        worker.extra_env.update(embedding)
        for name, value in embedding.items():
            setattr(settings, name, int(value) if value.isdigit() else value)
        server.stall_next(seconds=60)  # the worker's first embedding call hangs there
        worker.start()

        project = create_project(owner=member)
        client = client_for(member)
        paragraphs = [
            f"Section {i}: the cartographer surveyed ridge {i} at dawn." for i in range(60)
        ]
        document_id = upload(client, project, "\n\n".join(paragraphs).encode() * 3, "atlas.txt")

        wait_for(lambda: server.requests_to("/embeddings"), "the first embedding call", worker)
        assert progress(client, document_id)["status"] == "processing"
        worker.kill()
        record("faults injected", 1)
        assert Document.objects.get(pk=document_id).status == "processing"

        worker.start()
        assert documents_requeue_stuck(stuck_after=timedelta(0)) == {"requeued": 1, "failed": 0}
        final = wait_for(
            lambda: (p := progress(client, document_id))["status"] in ("completed", "failed") and p,
            "the re-queued document to finish",
            worker,
        )
        assert final["status"] == "completed", final

        records = VectorRecord.objects.filter(
            source_type=ContentType.objects.get_for_model(Document), source_id=document_id
        )
        indexes = sorted(records.values_list("chunk_index", flat=True))
        assert indexes == list(range(final["total_chunks"]))  # each chunk exactly once
        assert Document.objects.get(pk=document_id).attempts == 2
        assert search(client, "cartographer ridge")[0]["document_id"] == document_id
