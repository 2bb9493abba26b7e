"""The default schedule: created by bootstrap, never overwriting what staff changed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from apps.operations.schedule import DEFAULT_SCHEDULE, schedule_sync

pytestmark = pytest.mark.django_db


def test_bootstrap_creates_every_default_entry(settings, tmp_path):
    settings.FIRST_SUPERUSER_FILE = tmp_path / "first_superuser.txt"
    call_command("bootstrap", stdout=StringIO())
    entries = {task.name: task for task in PeriodicTask.objects.all()}
    for entry in DEFAULT_SCHEDULE:
        assert entries[entry.name].task == entry.task
        assert entries[entry.name].enabled
    sweeper = entries["Re-queue stuck documents"]
    assert sweeper.task == "apps.projects.tasks.documents_requeue_stuck"
    assert sweeper.interval.every == 300
    assert entries["Prune task results"].crontab.hour == "3"


def test_sync_keeps_entries_staff_retimed_or_paused():
    schedule_sync()
    paused = PeriodicTask.objects.get(name="Prune activity log")
    paused.enabled = False
    paused.save()
    retimed = PeriodicTask.objects.get(name="Prune task results")
    hourly, _ = IntervalSchedule.objects.get_or_create(every=1, period=IntervalSchedule.HOURS)
    retimed.crontab = None
    retimed.interval = hourly
    retimed.save()

    assert schedule_sync() == []

    assert not PeriodicTask.objects.get(name="Prune activity log").enabled
    assert PeriodicTask.objects.get(name="Prune task results").interval == hourly


def test_sync_recreates_a_deleted_entry_only():
    schedule_sync()
    PeriodicTask.objects.filter(name="Flush expired JWT tokens").delete()
    assert schedule_sync() == ["Flush expired JWT tokens"]
    assert PeriodicTask.objects.filter(name="Flush expired JWT tokens").count() == 1


def test_entries_of_an_app_not_installed_are_left_out(monkeypatch):
    installed = apps.is_installed
    monkeypatch.setattr(
        apps, "is_installed", lambda name: name != "apps.projects" and installed(name)
    )
    created = schedule_sync()
    assert "Re-queue stuck documents" not in created
    assert "Flush expired JWT tokens" in created
