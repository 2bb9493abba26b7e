"""File storage beyond Django's API: listing with modification times, the bucket check.

Every file goes through `STORAGES["default"]` (settings: local disk, or an S3-compatible
bucket through django-storages), so code opens `default_storage.open(name)` and never a
local path. Two things the generic API does badly on S3 live here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import Storage, default_storage


def s3_storage(storage: Storage | None = None) -> Any | None:
    """`storage` (default: the default storage) if it is django-storages' S3Storage."""
    storage = storage if storage is not None else default_storage
    try:
        from storages.backends.s3 import S3Storage
    except ImportError:  # pragma: no cover - django-storages is in requirements/prod.txt
        return None
    return storage if isinstance(storage, S3Storage) else None


def _walk(storage: Storage, folder: str) -> Iterator[str]:
    try:
        folders, files = storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        yield f"{folder}{name}"
    for sub in folders:
        yield from _walk(storage, f"{folder}{sub}/")


def stored_files(*, prefix: str, storage: Storage | None = None) -> Iterator[tuple[str, datetime]]:
    """Every stored file whose name starts with `prefix` (a folder, ending in "/"), with
    its modification time. On S3 one paginated listing carries both (asking each
    object's time would be a request per file); elsewhere a walk of the folders."""
    storage = storage if storage is not None else default_storage
    s3 = s3_storage(storage)
    if s3 is None:
        for name in _walk(storage, prefix):
            yield name, storage.get_modified_time(name)
        return
    location = s3.location.strip("/")
    base = f"{location}/" if location else ""
    paginator = s3.connection.meta.client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=s3.bucket_name, Prefix=base + prefix):
        for entry in page.get("Contents", ()):
            yield entry["Key"][len(base) :], entry["LastModified"]


def storage_bootstrap_step() -> str:
    """`bootstrap` step: the configured storage is reachable; with AWS_S3_CREATE_BUCKET a
    missing bucket is created. Raises ImproperlyConfigured naming the bucket otherwise."""
    s3 = s3_storage()
    if s3 is None:
        return f"Files are stored under {settings.MEDIA_ROOT}."
    from botocore.exceptions import BotoCoreError, ClientError

    client = s3.connection.meta.client
    where = s3.endpoint_url or "AWS S3"
    try:
        client.head_bucket(Bucket=s3.bucket_name)
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code not in ("404", "NoSuchBucket") or not settings.AWS_S3_CREATE_BUCKET:
            raise ImproperlyConfigured(
                f"The bucket {s3.bucket_name} at {where} is not usable: {error}"
            ) from error
        region = s3.region_name
        options: dict[str, Any] = {}
        if region and region != "us-east-1":
            options["CreateBucketConfiguration"] = {"LocationConstraint": region}
        client.create_bucket(Bucket=s3.bucket_name, **options)
        return f"Created the bucket {s3.bucket_name} at {where}."
    except BotoCoreError as error:
        raise ImproperlyConfigured(f"The bucket {s3.bucket_name} at {where}: {error}") from error
    return f"Files are stored in the bucket {s3.bucket_name} at {where}."
