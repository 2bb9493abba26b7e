"""Documents in an S3-compatible bucket: a real server (moto's server mode) on loopback.

The API stores the upload in the bucket and nothing on the web process's disk; a Celery
worker process with a media folder of its own (empty, so it cannot read the web
process's files) processes it; search finds it; deleting removes the object; the orphan
cleanup lists the bucket and removes only unreferenced, old objects.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from apps.operations.services import orphan_files, orphan_files_delete
from apps.projects.models import Document
from tests.projects.conftest import create_project, upload
from tests.support.celery_worker import CeleryWorker

POLL_TIMEOUT = 60.0


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


@pytest.fixture
def media_roots(settings, tmp_path):
    """Separate, empty media folders for this (web) process and the worker process."""
    web_media, worker_media = tmp_path / "web-media", tmp_path / "worker-media"
    web_media.mkdir()
    worker_media.mkdir()
    settings.MEDIA_ROOT = str(web_media)
    return web_media, worker_media


@pytest.mark.e2e
@pytest.mark.promise(1)
@pytest.mark.django_db(transaction=True)
def test_upload_process_search_and_delete_go_through_the_bucket(
    client_for, member, s3_server, s3_bucket, media_roots
):
    web_media, worker_media = media_roots
    worker = CeleryWorker(extra_env={**s3_server.env(s3_bucket), "MEDIA_ROOT": str(worker_media)})
    worker.start()
    try:
        project = create_project(owner=member)
        client = client_for(member)
        text = b"Field notes.\n\nThe axolotl regrows its limbs, heart and parts of its brain."
        response = client.post(
            f"/api/v1/projects/{project.pk}/documents",
            {"file": ContentFile(text, name="axolotl.txt")},
            format="multipart",
        )
        assert response.status_code == 201, response.content
        document = Document.objects.get(pk=response.json()["id"])
        assert s3_server.keys(s3_bucket) == [document.file.name]
        assert document.file.name.startswith(f"documents/{project.pk}/")
        stored = s3_server.client().get_object(Bucket=s3_bucket, Key=document.file.name)
        assert stored["Body"].read() == text

        deadline = time.monotonic() + POLL_TIMEOUT
        status = ""
        while time.monotonic() < deadline:
            status = client.get(f"/api/v1/documents/{document.pk}/progress").json()["status"]
            if status in ("completed", "failed"):
                break
            time.sleep(0.2)
        assert status == "completed", worker.log()[-4000:]
        # Neither process used its local disk for the document.
        assert files_under(web_media) == []
        assert files_under(worker_media) == []

        found = client.post(
            "/api/v1/search", {"query": "axolotl regrows limbs", "mode": "hybrid"}, format="json"
        ).json()["data"]
        assert found
        assert found[0]["document_id"] == str(document.pk)

        assert client.delete(f"/api/v1/documents/{document.pk}").status_code == 200
        assert s3_server.keys(s3_bucket) == []
    finally:
        worker.stop()


@pytest.mark.django_db
def test_orphan_cleanup_lists_the_bucket_and_deletes_only_old_unreferenced_objects(
    s3_server, s3_bucket, project, settings
):
    kept = upload(project=project)
    orphan = f"documents/{uuid.uuid4()}/{uuid.uuid4().hex}"
    outside = "exports/report.csv"  # not a document: never the cleanup's business
    client = s3_server.client()
    for key in (orphan, outside):
        client.put_object(Bucket=s3_bucket, Key=key, Body=b"left behind")

    settings.ORPHAN_FILE_MIN_AGE_MINUTES = 60  # everything is young: an upload in flight
    assert orphan_files() == []
    settings.ORPHAN_FILE_MIN_AGE_MINUTES = 0
    assert orphan_files() == [orphan]
    assert orphan_files_delete(dry_run=True) == 1
    assert orphan in s3_server.keys(s3_bucket)

    assert orphan_files_delete() == 1
    assert s3_server.keys(s3_bucket) == sorted([kept.file.name, outside])


@pytest.mark.django_db
def test_delete_removes_the_object_only_after_commit(
    s3_server, s3_bucket, project, django_capture_on_commit_callbacks
):
    from apps.projects import services

    document = upload(project=project)
    with django_capture_on_commit_callbacks(execute=True):
        services.document_delete(document=document)
        assert s3_server.keys(s3_bucket) == [document.file.name]  # a rollback keeps it
    assert s3_server.keys(s3_bucket) == []
