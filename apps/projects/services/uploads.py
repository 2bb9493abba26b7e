"""Accepting an upload: size and type checks, safe naming, storage, and the queue.

The type comes from the content (`check_document_type`), never from the name. The file is
stored through Django's storage API under a generated name (`documents/<project>/<uuid>`),
so switching `STORAGES["default"]` to an S3-compatible backend is a settings change.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files import File
from django.db import transaction

from apps.plans.quotas import document_admit, team_for_project
from apps.projects.models import Document, Project
from apps.users.models import User
from launch.ai.extraction import DOCUMENT_TYPES, check_document_type

MAX_FILENAME = 255
# How much of the head the type sniffer reads; ZIP-based formats need the whole file.
_SNIFF_BYTES = 64 * 1024
_FILE_TYPE_ALIASES = {"md": "markdown", "text": "txt", "htm": "html"}


class UploadTooLarge(Exception):
    """The file exceeds DOCUMENT_MAX_UPLOAD_MB (the API answers 413)."""


def max_upload_bytes() -> int:
    return int(settings.DOCUMENT_MAX_UPLOAD_MB) * 1024 * 1024


def sanitize_filename(name: str) -> str:
    """A display name safe to store and echo: no directories, `..`, NUL or control
    characters, at most 255 characters (the extension is kept when cutting)."""
    base = re.split(r"[/\\]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = base.replace("..", "").strip(" .")
    if not base:
        return "document"
    if len(base) > MAX_FILENAME:
        suffix = PurePosixPath(base).suffix
        suffix = suffix if len(suffix) <= 16 else ""
        base = base[: MAX_FILENAME - len(suffix)] + suffix
    return base


def declared_file_type(document_type: str | None) -> str | None:
    """`document_type` is a free label (upstream's default is "other"); when it names a
    file format it is also a claim about the content, which must then match."""
    label = (document_type or "").strip().lower().lstrip(".")
    label = _FILE_TYPE_ALIASES.get(label, label)
    return label if label in DOCUMENT_TYPES else None


def _sniff(upload: File) -> bytes:
    upload.seek(0)
    head = upload.read(_SNIFF_BYTES + 1)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        upload.seek(0)
        head = upload.read()  # a .docx's type is in its ZIP directory, at the end
    upload.seek(0)
    return head


def _sha256(upload: File) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def document_upload(
    *,
    user: User,
    project: Project,
    upload: File,
    filename: str | None = None,
    document_type: str | None = None,
    enqueue: bool = True,
) -> Document:
    """Store an uploaded file as a pending document of `project`.

    Raises UploadTooLarge, UnsupportedDocumentType / DocumentTypeMismatch (415), or
    QuotaExceeded (403) past the plan's documents or storage of the project's team.
    Side effects: writes the file to storage (removed again if the row cannot be saved),
    inserts the row, and after commit enqueues `document_process` (unless `enqueue` is
    False: the `ingest` command processes in-process).
    """
    size = upload.size or 0
    if size > max_upload_bytes():
        raise UploadTooLarge
    display_name = sanitize_filename(filename or upload.name or "")
    file_type = check_document_type(
        _sniff(upload), display_name, declared_type=declared_file_type(document_type)
    )
    document = Document(
        project=project,
        uploaded_by=user,
        filename=display_name,
        file_type=file_type,
        document_type=(document_type or "other").strip()[:50] or "other",
        file_size=size,
        sha256=_sha256(upload),
        task_id=str(uuid.uuid4()) if enqueue else None,
    )
    # The plan's documents and storage: checked before the file is stored, and again
    # under the team's lock just before the row, which parallel uploads pass one at a time.
    team = team_for_project(project)
    document_admit(team=team, size=size)
    document.file.save(display_name, upload, save=False)
    try:
        with transaction.atomic():
            document_admit(team=team, size=size, lock=True)
            document.save()
            if enqueue:
                transaction.on_commit(lambda: enqueue_processing(document))
    except BaseException:
        document.file.delete(save=False)
        raise
    return document


def enqueue_processing(document: Document) -> None:
    """Send `document_process` for `document` under its stored task id."""
    from apps.projects.tasks import document_process

    document_process.apply_async(args=[str(document.pk)], task_id=document.task_id)
