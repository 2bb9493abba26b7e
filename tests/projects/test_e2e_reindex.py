"""A model change end to end: the real Celery worker builds the new version alongside
while the API keeps answering searches, switches, and drops the old version."""

from __future__ import annotations

import time
from io import StringIO

import pytest
from django.core.management import call_command

from launch.vector_store.models import EmbeddingVersion, VectorRecord
from launch.vector_store.services.versions import active_version
from tests.projects.conftest import create_project
from tests.projects.test_e2e import search, upload, wait_for
from tests.support.celery_worker import CeleryWorker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DOCUMENTS = {
    "otters.txt": b"Sea otters use rocks as tools to open shellfish on their bellies.",
    "basalt.txt": b"Basalt columns form as thick lava flows cool, shrink and crack.",
    "kelp.txt": b"Kelp forests shelter young fish along cold rocky coasts.",
}


@pytest.fixture
def worker():
    celery = CeleryWorker()
    yield celery
    celery.stop()


def test_search_keeps_answering_during_a_reindex_then_uses_the_new_model(
    client_for, member, worker
):
    worker.start()
    project = create_project(owner=member)
    client = client_for(member)
    ids = {name: upload(client, project, data, name) for name, data in DOCUMENTS.items()}
    wait_for(
        lambda: VectorRecord.objects.values("source_id").distinct().count() == len(ids),
        "the documents to be processed",
        worker,
    )
    old = active_version()
    assert search(client, "otters shellfish")[0]["document_id"] == ids["otters.txt"]

    out = StringIO()
    call_command("reindex", "--to", "hashing", "--dimensions", "128", "--no-wait", stdout=out)
    assert "building hashing-v1-128" in out.getvalue()

    deadline = time.monotonic() + 40
    while EmbeddingVersion.objects.get(name="hashing-v1-128").state != "active":
        assert time.monotonic() < deadline, worker.log()[-4000:]
        hits = search(client, "lava basalt")
        assert hits, "a search during the reindex found nothing"
        assert hits[0]["document_id"] == ids["basalt.txt"]
    new = active_version()
    assert new.name == "hashing-v1-128"
    assert search(client, "kelp fish")[0]["document_id"] == ids["kelp.txt"]
    # The worker drops the old version's rows once the new one is active.
    wait_for(lambda: not VectorRecord.objects.filter(version=old).exists(), "the old rows", worker)
    assert VectorRecord.objects.filter(version=new).count() == len(ids)
    assert "rollout_scope" in worker.log()
