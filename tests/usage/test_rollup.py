"""The daily roll-up and the prune of raw ledger rows: reports read roll-ups plus the raw
rows not rolled up, and stay equal to the raw sums through roll-ups, late rows and prunes."""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import uuid
from decimal import Decimal

import pytest
from django.db.models import Count, Sum
from django.utils import timezone

from apps.operations.models import PeriodicRun
from apps.operations.tasks import prune_model_calls, roll_up_model_calls
from apps.teams.services import team_ensure_personal
from apps.usage.models import ModelCall, UsageDay
from apps.usage.selectors import GROUPS, model_call_list, usage_report, usage_summary
from apps.usage.services import model_call_record, model_calls_prune, usage_roll_up
from launch.ai.metering import CallRecord

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
START, END = TODAY - datetime.timedelta(days=200), TODAY
PRICES = {"m-1": {"input": "0.15", "output": "0.6"}, "m-2": {"input": "0.0123", "output": "0"}}


def record(user, *, days_ago=0, model="m-1", purpose="answer", status="ok", tokens=(10, 5),
           estimated=False, project=None, api_key=None):  # fmt: skip
    key = uuid.uuid4().hex
    model_call_record(
        CallRecord(
            purpose=purpose,
            provider="openai",
            model=model,
            input_tokens=tokens[0],
            output_tokens=tokens[1],
            tokens_estimated=estimated,
            latency_ms=3,
            status=status,
            idempotency_key=key,
            attribution={"user": user, "project_id": project, "api_key": api_key},
        )
    )
    # Noon of that day, so a run at any hour files it under the same day.
    when = timezone.make_aware(
        datetime.datetime.combine(TODAY - datetime.timedelta(days=days_ago), datetime.time(12))
    )
    ModelCall.objects.filter(idempotency_key=key).update(created_at=when)


@pytest.fixture
def ledger(member, stranger, settings):
    """Calls over 150 days, two users (two teams), two models, every purpose and status,
    estimated and not, priced with fractions of a cent."""
    settings.USAGE_PRICES = PRICES
    team_ensure_personal(user=member)
    team_ensure_personal(user=stranger)
    project = uuid.uuid4()
    shapes = itertools.cycle(
        [
            ("m-1", "answer", "ok", False),
            ("m-2", "ingest", "ok", True),
            ("m-1", "title", "error", False),
            ("m-2", "query_embedding", "cancelled", True),
            ("m-1", "stream_answer", "ok", False),
        ]
    )
    for n, days_ago in enumerate([0, 0, 1, 1, 1, 2, 5, 9, 30, 31, 95, 95, 120, 150]):
        model, purpose, status, estimated = next(shapes)
        record(
            member if n % 3 else stranger,
            days_ago=days_ago,
            model=model,
            purpose=purpose,
            status=status,
            estimated=estimated,
            tokens=(17 * n + 3, 5 * n),
            project=project if n % 2 else None,
        )


def raw_report(group_by, **scope):
    """What the raw rows alone say (every row kept, nothing rolled up or pruned)."""
    return usage_summary(calls=model_call_list(start=START, end=END, **scope), group_by=group_by)


def as_set(rows):
    return sorted((tuple(sorted(row.items(), key=lambda kv: kv[0])) for row in rows), key=str)


def raw_sums():
    return ModelCall.objects.aggregate(
        calls=Count("id"), inp=Sum("input_tokens"), out=Sum("output_tokens"), cost=Sum("cost")
    )


def rolled_sums():
    return UsageDay.objects.aggregate(
        calls=Sum("calls"), inp=Sum("input_tokens"), out=Sum("output_tokens"), cost=Sum("cost")
    )


def test_the_roll_up_takes_finished_days_and_its_sums_equal_the_raw_rows(ledger):
    before = ModelCall.objects.exclude(created_at__date=TODAY).aggregate(
        calls=Count("id"), inp=Sum("input_tokens"), out=Sum("output_tokens"), cost=Sum("cost")
    )
    assert usage_roll_up() == before["calls"] == 12
    assert rolled_sums() == before
    assert before["cost"] > 0
    assert before["cost"] != before["cost"].quantize(Decimal("0.01"))
    # Today's calls are not rolled up until today is over.
    assert set(
        ModelCall.objects.filter(rolled_up=False).values_list("created_at__date", flat=True)
    ) == {TODAY}


@pytest.mark.parametrize("group_by", GROUPS)
def test_reports_equal_the_raw_sums_before_and_after_the_roll_up(ledger, member, group_by):
    expected = {
        "all": raw_report(group_by),
        "member": raw_report(group_by, user_id=member.pk),
    }
    usage_roll_up()
    assert ModelCall.objects.filter(rolled_up=True).exists()
    assert as_set(usage_report(start=START, end=END, group_by=group_by)) == as_set(expected["all"])
    assert as_set(
        usage_report(start=START, end=END, group_by=group_by, user_id=member.pk)
    ) == as_set(expected["member"])


def test_rerunning_the_roll_up_changes_nothing(ledger):
    usage_roll_up()
    first = list(UsageDay.objects.order_by("id").values())
    assert usage_roll_up() == 0
    assert list(UsageDay.objects.order_by("id").values()) == first


def test_a_late_row_counts_at_once_and_the_next_run_rolls_it_up(ledger, member):
    usage_roll_up()
    report = usage_report(start=START, end=END, group_by="day")
    yesterday = str(TODAY - datetime.timedelta(days=1))
    calls_before = next(r["calls"] for r in report if r["key"] == yesterday)
    # A row for yesterday committed after yesterday was rolled up.
    record(member, days_ago=1, tokens=(1000, 1))
    report = usage_report(start=START, end=END, group_by="day")
    assert next(r["calls"] for r in report if r["key"] == yesterday) == calls_before + 1
    assert usage_roll_up() == 1
    assert usage_report(start=START, end=END, group_by="day") == report
    assert ModelCall.objects.filter(rolled_up=False, created_at__date__lt=TODAY).count() == 0


def test_prune_deletes_only_old_rolled_up_rows_and_the_totals_stay(ledger, settings):
    settings.USAGE_RAW_RETENTION_DAYS = 90
    expected = {group_by: raw_report(group_by) for group_by in GROUPS}
    # Not rolled up yet: nothing may go, however old.
    assert model_calls_prune() == 0
    usage_roll_up()
    assert model_calls_prune(dry_run=True) == 4
    assert ModelCall.objects.count() == 14
    assert model_calls_prune() == 4  # the calls of 95, 95, 120 and 150 days ago
    cutoff = timezone.now() - datetime.timedelta(days=90)
    assert not ModelCall.objects.filter(created_at__lt=cutoff).filter(rolled_up=True).exists()
    for group_by in GROUPS:
        assert as_set(usage_report(start=START, end=END, group_by=group_by)) == as_set(
            expected[group_by]
        )


def test_the_api_and_its_csv_are_exact_after_roll_up_and_prune(client_for, superuser, ledger):
    client = client_for(superuser)
    params = {"from": str(START), "to": str(END), "group_by": "model"}
    before = client.get("/api/v1/usage", params).json()
    csv_before = client.get("/api/v1/usage", {**params, "format": "csv"}).content
    usage_roll_up()
    model_calls_prune(days=1)  # every rolled-up row: only today's rows stay raw
    assert ModelCall.objects.count() == 2
    after = client.get("/api/v1/usage", params).json()
    assert after == before
    assert client.get("/api/v1/usage", {**params, "format": "csv"}).content == csv_before
    rows = list(csv.DictReader(io.StringIO(csv_before.decode())))
    assert sum(int(r["calls"]) for r in rows) == 14


def test_beat_tasks_roll_up_then_prune_once_per_period(ledger, settings):
    settings.USAGE_RAW_RETENTION_DAYS = 90
    assert roll_up_model_calls() == {"calls": 12}
    assert roll_up_model_calls() is None  # the day's run already happened
    assert prune_model_calls() == {"deleted": 4}
    assert PeriodicRun.objects.filter(task__endswith="model_calls").count() == 2


def test_the_prune_command_names_the_ledger_step(ledger, settings):
    from django.core.management import call_command

    settings.USAGE_RAW_RETENTION_DAYS = 90
    usage_roll_up()
    out = io.StringIO()
    call_command("prune", "--dry-run", stdout=out)
    assert "4 rolled-up model calls" in out.getvalue()
    assert ModelCall.objects.count() == 14
