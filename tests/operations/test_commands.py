"""`prune` and `seed_demo`."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.apps import apps
from django.core.management import call_command
from django.utils import timezone
from django_celery_results.models import TaskResult
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from apps.items.models import Item
from apps.users.models import User

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture
def old_rows(user, settings):
    settings.TASK_RESULT_RETENTION_DAYS = 30
    settings.ACTIVITY_RETENTION_DAYS = 30
    long_ago = timezone.now() - timedelta(days=40)
    OutstandingToken.objects.create(
        user=user, jti="old", token="t", created_at=long_ago, expires_at=long_ago
    )
    TaskResult.objects.create(task_id="old", status="SUCCESS")
    TaskResult.objects.update(date_done=long_ago)
    LogEntry.objects.update(timestamp=long_ago)


def snapshot() -> tuple[int, int, int]:
    return (
        OutstandingToken.objects.count(),
        TaskResult.objects.count(),
        LogEntry.objects.count(),
    )


def test_prune_dry_run_changes_nothing(old_rows):
    before = snapshot()
    output = run("prune", "--dry-run")
    assert snapshot() == before
    assert (
        output.strip()
        .splitlines()[-1]
        .startswith("prune: would delete 1 expired tokens, 1 task results")
    )


def test_prune_deletes_and_summarises(old_rows):
    logged = LogEntry.objects.count()
    output = run("prune")
    assert snapshot() == (0, 0, 0)
    assert f"prune: deleted 1 expired tokens, 1 task results, {logged} activity entries" in output


def test_seed_demo_builds_a_world_once():
    first = run("seed_demo")
    alice = User.objects.get(email="alice@demo.example.com")
    assert alice.is_staff
    assert alice.groups.filter(name="admin").exists()
    assert User.objects.get(email="carol@demo.example.com").groups.get().name == "viewer"
    assert Item.objects.filter(owner=alice).count() == 2
    assert "alice@demo.example.com / " in first  # the generated password, shown once
    if apps.is_installed("apps.projects"):
        document = apps.get_model("projects.Document")
        assert set(document.objects.values_list("status", flat=True)) == {"completed"}
        assert document.objects.count() == 2

    counts = (User.objects.count(), Item.objects.count(), LogEntry.objects.count())
    second = run("seed_demo")
    assert (User.objects.count(), Item.objects.count(), LogEntry.objects.count()) == counts
    assert "exists (password unchanged)" in second
    assert second.strip().splitlines()[-1] == "seed_demo: 0 object(s) created, the rest existed."


def test_seed_demo_books_30_days_of_usage_once():
    from apps.usage.models import ModelCall, UsageDay
    from apps.usage.selectors import usage_daily_series

    run("seed_demo")
    demo = ModelCall.objects.filter(idempotency_key__startswith="demo:")
    count = demo.count()
    assert count > 100
    days = set(demo.values_list("created_at__date", flat=True))
    assert len(days) == 30
    assert UsageDay.objects.exists()  # the finished days are rolled up
    today = timezone.localdate()
    chart = usage_daily_series(start=today - timedelta(days=29), end=today, by="team")
    assert "Demo Co" in {series["label"] for series in chart["series"]}
    run("seed_demo")
    assert demo.count() == count
