"""File storage selected by settings, listed with modification times, and its bootstrap
check, against a real S3-compatible server on loopback (moto's server mode)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from launch.storage import s3_storage, storage_bootstrap_step, stored_files
from tests.support.settings_probe import run_settings, settings_value

# The production settings, as a deployment runs them (the test settings import them).
BASE = "config.settings.base"


def test_local_disk_is_the_default_storage():
    backend = settings_value({}, 's.STORAGES["default"]["BACKEND"]', module=BASE)
    assert backend == "django.core.files.storage.FileSystemStorage"


def test_the_s3_environment_builds_the_s3_storage_the_tests_use(s3_server):
    env = s3_server.env("launch-files")
    env.pop("STORAGE_BACKEND")  # naming a bucket is enough to select s3
    configured = settings_value(env, 's.STORAGES["default"]', module=BASE)
    assert configured == s3_server.storage_config("launch-files")


def test_s3_without_a_bucket_fails_at_start_up_naming_the_variable():
    result = run_settings({"STORAGE_BACKEND": "s3"}, module=BASE)
    assert result.returncode != 0
    assert "AWS_STORAGE_BUCKET_NAME" in result.stderr


def test_stored_files_lists_a_bucket_under_the_prefix_with_modification_times(s3_server, s3_bucket):
    storage = storages["default"]
    assert s3_storage(storage) is not None
    names = [storage.save(f"documents/p{i}/file", ContentFile(b"x")) for i in range(3)]
    storage.save("elsewhere/file", ContentFile(b"x"))
    listed = dict(stored_files(prefix="documents/"))
    assert sorted(listed) == sorted(names)
    now = timezone.now()
    assert all(now - timedelta(minutes=5) < modified <= now for modified in listed.values())


def test_stored_files_strips_the_key_prefix_of_a_shared_bucket(s3_server):
    bucket = s3_server.create_bucket()
    config = s3_server.storage_config(bucket, location="tenant-a")
    from storages.backends.s3 import S3Storage

    storage = S3Storage(**config["OPTIONS"])
    name = storage.save("documents/p/file", ContentFile(b"x"))
    s3_server.client().put_object(Bucket=bucket, Key="tenant-b/documents/p/other", Body=b"x")
    assert s3_server.keys(bucket) == ["tenant-a/documents/p/file", "tenant-b/documents/p/other"]
    assert [listed for listed, _ in stored_files(prefix="documents/", storage=storage)] == [name]


def test_stored_files_walks_local_folders(tmp_path):
    storage = FileSystemStorage(location=tmp_path)
    names = [storage.save(path, ContentFile(b"x")) for path in ("documents/a/1", "documents/b/c/2")]
    storage.save("other/3", ContentFile(b"x"))
    assert sorted(name for name, _ in stored_files(prefix="documents/", storage=storage)) == names
    assert list(stored_files(prefix="missing/", storage=storage)) == []


def test_bootstrap_creates_a_missing_bucket_when_allowed(s3_server, settings):
    bucket = "launch-bootstrap-created"
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage_config(bucket)}
    settings.AWS_S3_CREATE_BUCKET = True
    assert storage_bootstrap_step() == f"Created the bucket {bucket} at {s3_server.endpoint_url}."
    assert bucket in [entry["Name"] for entry in s3_server.client().list_buckets()["Buckets"]]
    assert storage_bootstrap_step().startswith(f"Files are stored in the bucket {bucket}")


@pytest.mark.django_db
def test_bootstrap_stops_on_a_missing_bucket_naming_it(s3_server, settings):
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage_config("launch-nope")}
    settings.AWS_S3_CREATE_BUCKET = False
    with pytest.raises(CommandError, match="launch-nope"):
        call_command("bootstrap")


def test_bootstrap_names_the_local_folder(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    assert storage_bootstrap_step() == f"Files are stored under {tmp_path}."


def test_no_application_code_reads_a_stored_file_by_local_path():
    # With S3 there is no local path: files are opened through the storage API
    # (`document.file.open()`, `default_storage.open(name)`), on every backend.
    root = Path(__file__).resolve().parent.parent.parent
    local_path = re.compile(r"\.path\(|\.file\.path\b|MEDIA_ROOT")
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for folder in ("apps", "launch")
        for path in sorted((root / folder).rglob("*.py"))
        if path.name != "storage.py" or path.parent.name != "launch"  # names the folder
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if local_path.search(line)
    ]
    assert offenders == []
