"""Each periodic task does its job when called, and once per period however often sent."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone
from django_celery_results.models import TaskResult
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from apps.operations import services, tasks
from apps.operations.locks import period_start
from apps.operations.models import PeriodicRun
from apps.projects.models import Document
from apps.projects.services import project_create

pytestmark = pytest.mark.django_db


def old_entry(days: int) -> LogEntry:
    entry = LogEntry.objects.create(
        content_type=ContentType.objects.get_for_model(LogEntry),
        object_pk="x",
        object_repr="x",
        action=LogEntry.Action.CREATE,
    )
    LogEntry.objects.filter(pk=entry.pk).update(timestamp=timezone.now() - timedelta(days=days))
    return entry


def test_flush_expired_tokens_deletes_expired_and_their_blacklist(user):
    now = timezone.now()
    expired = OutstandingToken.objects.create(
        user=user, jti="old", token="t1", created_at=now - timedelta(days=9), expires_at=now
    )
    BlacklistedToken.objects.create(token=expired)
    live = OutstandingToken.objects.create(
        user=user, jti="new", token="t2", created_at=now, expires_at=now + timedelta(days=1)
    )
    assert tasks.flush_expired_tokens() == {"deleted": 1}
    assert list(OutstandingToken.objects.all()) == [live]
    assert not BlacklistedToken.objects.exists()


def test_prune_task_results_keeps_recent_ones(settings):
    settings.TASK_RESULT_RETENTION_DAYS = 30
    TaskResult.objects.create(task_id="old", status="SUCCESS")
    TaskResult.objects.filter(task_id="old").update(date_done=timezone.now() - timedelta(days=31))
    TaskResult.objects.create(task_id="recent", status="SUCCESS")
    assert tasks.prune_task_results() == {"deleted": 1}
    assert list(TaskResult.objects.values_list("task_id", flat=True)) == ["recent"]


def test_prune_activity_keeps_recent_entries(settings):
    settings.ACTIVITY_RETENTION_DAYS = 10
    old_entry(days=11)
    recent = old_entry(days=9)
    assert tasks.prune_activity() == {"deleted": 1}
    assert list(LogEntry.objects.filter(object_pk="x")) == [recent]


def test_a_second_run_in_the_same_period_does_nothing(settings):
    settings.ACTIVITY_RETENTION_DAYS = 10
    old_entry(days=11)
    assert tasks.prune_activity() == {"deleted": 1}
    old_entry(days=11)
    assert tasks.prune_activity() is None
    assert LogEntry.objects.filter(object_pk="x").count() == 1
    run = PeriodicRun.objects.get(task="apps.operations.tasks.prune_activity")
    assert run.summary == {"deleted": 1}


def test_period_start_is_aligned():
    moment = timezone.now().replace(hour=13, minute=7)
    assert period_start(moment, timedelta(days=1)) == moment.replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    assert period_start(moment, timedelta(minutes=5)).minute == 5


@pytest.fixture
def stored(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.ORPHAN_FILE_MIN_AGE_MINUTES = 60

    def store(name: str, *, age_minutes: int) -> str:
        saved = default_storage.save(name, ContentFile(b"data"))
        path = tmp_path / saved
        stamp = (timezone.now() - timedelta(minutes=age_minutes)).timestamp()
        import os

        os.utime(path, (stamp, stamp))
        return saved

    return store


def test_delete_orphan_files_spares_referenced_and_young_files(stored, user):
    referenced = stored("documents/p/kept", age_minutes=120)
    orphan = stored("documents/p/orphan", age_minutes=120)
    young = stored("documents/p/uploading", age_minutes=5)
    outside = stored("avatars/old", age_minutes=120)
    project = project_create(user=user, name="Files")
    Document.objects.create(
        project=project, filename="kept.txt", file=referenced, file_type="txt",
        file_size=4, sha256="0" * 64, status=Document.Status.COMPLETED,
    )  # fmt: skip

    assert tasks.delete_orphan_files() == {"deleted": 1}
    assert not default_storage.exists(orphan)
    for name in (referenced, young, outside):
        assert default_storage.exists(name)


def test_orphan_files_are_kept_without_a_reference_list(stored, monkeypatch):
    orphan = stored("documents/p/orphan", age_minutes=120)
    monkeypatch.setattr(services, "import_string", _missing)
    assert services.orphan_files_delete() == 0
    assert default_storage.exists(orphan)


def _missing(path: str):
    raise ImportError(path)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_do_the_work_once(settings):
    settings.ACTIVITY_RETENTION_DAYS = 10
    for _ in range(3):
        old_entry(days=11)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(tasks.prune_activity())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results, key=str) == [None, {"deleted": 3}]
    assert PeriodicRun.objects.filter(task="apps.operations.tasks.prune_activity").count() == 1
