"""Upload limits: size (413), content type by magic bytes (415), safe names and storage."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from apps.projects.models import Document
from apps.projects.services import sanitize_filename
from tests.support.documents import ELF_HEADER, make_docx, make_pdf

pytestmark = [pytest.mark.django_db, pytest.mark.promise(4)]


def post(client, project, data: bytes, name: str, **extra):
    payload = {"file": ContentFile(data, name=name), **extra}
    return client.post(f"/api/v1/projects/{project.pk}/documents", payload, format="multipart")


def test_upload_stores_the_file_under_a_generated_name_with_its_hash(
    client_for, project, django_capture_on_commit_callbacks
):
    data = make_pdf(["Chapter one", "Chapter two"])
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(client_for(project.owner), project, data, "Report.pdf")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["filename"], body["file_type"], body["status"]) == ("Report.pdf", "pdf", "pending")
    assert body["document_type"] == "other"
    assert body["file_size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    document = Document.objects.get(pk=body["id"])
    assert document.file.name.startswith(f"documents/{project.pk}/")
    assert "Report" not in document.file.name
    with default_storage.open(document.file.name) as stored:
        assert stored.read() == data
    assert len(callbacks) == 1  # document_process is queued only once the row is committed
    assert body["task_id"]


def test_media_root_is_not_served(client_for, project):
    document_id = post(client_for(project.owner), project, b"hello there", "a.txt").json()["id"]
    name = Document.objects.get(pk=document_id).file.name
    response = client_for(project.owner).get(f"/{settings.MEDIA_URL.strip('/')}/{name}")
    assert response.status_code == 404


def test_docx_and_text_types_are_detected_from_content(client_for, project):
    client = client_for(project.owner)
    docx = make_docx(heading="Guide", paragraphs=["Step one."])
    assert post(client, project, docx, "guide.docx").json()["file_type"] == "docx"
    assert post(client, project, b"# Title\n\nbody", "readme.md").json()["file_type"] == "markdown"
    html = b"<!doctype html><html><body><p>Hi</p></body></html>"
    assert post(client, project, html, "page.html").json()["file_type"] == "html"
    assert post(client, project, b"just text", "noext").json()["file_type"] == "txt"


def test_over_the_size_limit_is_413(client_for, project, settings):
    settings.DOCUMENT_MAX_UPLOAD_MB = 1
    response = post(client_for(project.owner), project, b"a" * (1024 * 1024 + 1), "big.txt")
    assert response.status_code == 413
    assert "1 MB" in response.json()["detail"]
    assert not Document.objects.exists()


def test_a_content_length_over_the_limit_is_refused_before_the_body_is_read(
    client_for, project, settings
):
    settings.DOCUMENT_MAX_UPLOAD_MB = 1
    response = client_for(project.owner).generic(
        "POST",
        f"/api/v1/projects/{project.pk}/documents",
        b"--x\r\n",  # the body is never parsed: the declared length decides
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(5 * 1024 * 1024),
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("data", "name", "fragment"),
    [
        (b"<!doctype html><html><body>not a pdf</body></html>", "invoice.pdf", "named as a PDF"),
        (ELF_HEADER + b"\x00" * 200, "invoice.pdf", "ELF executable"),
        (ELF_HEADER + b"\x00" * 200, "notes.txt", "ELF executable"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "scan.pdf", "PNG image"),
    ],
)
def test_content_that_is_not_what_it_claims_is_415(client_for, project, data, name, fragment):
    response = post(client_for(project.owner), project, data, name)
    assert response.status_code == 415
    assert fragment in response.json()["detail"]
    assert not Document.objects.exists()


def test_a_document_type_naming_a_format_must_match_the_content(client_for, project):
    client = client_for(project.owner)
    response = post(client, project, b"plain words", "a.txt", document_type="pdf")
    assert response.status_code == 415
    labelled = post(client, project, b"plain words", "a.txt", document_type="meeting notes")
    assert labelled.json()["document_type"] == "meeting notes"


def test_missing_file_is_422(client_for, project):
    response = client_for(project.owner).post(
        f"/api/v1/projects/{project.pk}/documents", {"document_type": "x"}, format="multipart"
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system.ini", "system.ini"),
        ("a\x00b.txt", "ab.txt"),
        ("bell\x07\nline.txt", "bellline.txt"),
        ("..", "document"),
        ("", "document"),
        ("report..final.txt", "reportfinal.txt"),
    ],
)
def test_sanitize_filename(raw, expected):
    assert sanitize_filename(raw) == expected


def test_hostile_names_are_stored_safely_through_the_api(client_for, project):
    client = client_for(project.owner)
    long_name = "x" * 300 + ".txt"
    for raw in ("../../secret.txt", "evil\x00name.txt", long_name):
        response = post(client, project, b"some text", raw)
        assert response.status_code == 201, raw
        name = response.json()["filename"]
        assert "/" not in name
        assert "\x00" not in name
        assert ".." not in name
        assert len(name) <= 255
    long_stored = Document.objects.get(filename__startswith="xxx")
    assert long_stored.filename.endswith(".txt")
    assert len(long_stored.filename) == 255
    media = Path(settings.MEDIA_ROOT).resolve()
    for document in Document.objects.all():
        assert Path(document.file.path).resolve().is_relative_to(media)
