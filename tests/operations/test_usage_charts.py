"""The control room's usage charts and top spenders: exact sums over roll-ups plus raw
rows, rendered as Chart.js charts fed by the page's JSON, only for staff who may view
the usage ledger."""

from __future__ import annotations

import datetime
import json
import re
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db.models import Sum
from django.utils import timezone

from apps.operations.selectors import CHART_DAYS, usage_dashboard
from apps.teams.services import team_create, team_ensure_personal
from apps.usage.models import ModelCall
from apps.usage.selectors import usage_daily_series, usage_top
from apps.usage.services import model_call_record, usage_roll_up
from launch.ai.metering import CallRecord

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
PRICES = {
    "big-model": {"input": "0.5", "output": "1.5"},
    "small-model": {"input": "0.01", "output": "0.03"},
}


def record(user, *, days_ago, model, tokens, team_id=None):
    key = uuid.uuid4().hex
    model_call_record(
        CallRecord(
            purpose="answer",
            provider="openai",
            model=model,
            input_tokens=tokens[0],
            output_tokens=tokens[1],
            tokens_estimated=False,
            latency_ms=5,
            status="ok",
            idempotency_key=key,
            attribution={"user": user, **({"team_id": team_id} if team_id else {})},
        )
    )
    when = timezone.make_aware(
        datetime.datetime.combine(TODAY - datetime.timedelta(days=days_ago), datetime.time(12))
    )
    ModelCall.objects.filter(idempotency_key=key).update(created_at=when)


@pytest.fixture
def seeded(settings, make_user):
    """Two users, three teams (two personal, one shared), two priced models and one
    free, calls spread over 40 days (some outside the charts' 30), older days rolled up."""
    settings.USAGE_PRICES = PRICES
    ada, bo = make_user(email="ada@example.com"), make_user(email="bo@example.com")
    team_ensure_personal(user=ada)
    team_ensure_personal(user=bo)
    shared = team_create(actor=ada, name="Research")
    for n, days_ago in enumerate([0, 0, 1, 3, 3, 7, 12, 20, 29, 30, 35, 39]):
        record(
            ada if n % 2 else bo,
            days_ago=days_ago,
            model=("big-model", "small-model", "free-model")[n % 3],
            tokens=(100 * n + 7, 13 * n),
            team_id=shared.pk if n % 4 == 0 else None,
        )
    usage_roll_up()  # every day before today rolled up; today's rows stay raw
    return {"ada": ada, "bo": bo, "shared": shared}


def raw_in(start, end):
    return ModelCall.objects.filter(created_at__date__gte=start, created_at__date__lte=end)


def test_daily_series_sum_exactly_to_the_raw_rows(seeded):
    start = TODAY - datetime.timedelta(days=CHART_DAYS - 1)
    for by in ("model", "team"):
        chart = usage_daily_series(start=start, end=TODAY, by=by)
        assert len(chart["days"]) == CHART_DAYS
        assert chart["days"][-1] == TODAY.isoformat()
        raw = raw_in(start, TODAY)
        for n, day in enumerate(chart["days"]):
            on_day = raw.filter(created_at__date=day).aggregate(
                i=Sum("input_tokens"), o=Sum("output_tokens"), c=Sum("cost")
            )
            assert sum(s["tokens"][n] for s in chart["series"]) == (on_day["i"] or 0) + (
                on_day["o"] or 0
            )
            assert sum((s["cost"][n] for s in chart["series"]), Decimal(0)) == (
                on_day["c"] or Decimal(0)
            )
    by_model = usage_daily_series(start=start, end=TODAY, by="model")
    for series in by_model["series"]:
        model = series["label"].split("/", 1)[1]
        expected = raw_in(start, TODAY).filter(model=model).aggregate(c=Sum("cost"))["c"]
        assert sum(series["cost"], Decimal(0)) == expected
    # Costliest first: the big model leads.
    assert by_model["series"][0]["label"] == "openai/big-model"


def test_series_past_the_top_are_summed_as_other(seeded):
    start = TODAY - datetime.timedelta(days=CHART_DAYS - 1)
    chart = usage_daily_series(start=start, end=TODAY, by="model", top=1)
    assert [s["label"] for s in chart["series"]] == ["openai/big-model", "other"]
    total = raw_in(start, TODAY).aggregate(i=Sum("input_tokens"), o=Sum("output_tokens"))
    assert sum(sum(s["tokens"]) for s in chart["series"]) == total["i"] + total["o"]


def test_top_teams_and_users_this_month_are_exact_and_ordered(seeded):
    month = TODAY.replace(day=1)
    raw = raw_in(month, TODAY)
    teams = usage_top(start=month, end=TODAY, by="team")
    assert [row["cost"] for row in teams] == sorted((row["cost"] for row in teams), reverse=True)
    for row in teams:
        expected = raw.filter(team_id=row["key"]).aggregate(c=Sum("cost"), n=Sum("input_tokens"))
        assert row["cost"] == expected["c"]
    users = usage_top(start=month, end=TODAY, by="user")
    assert {row["label"] for row in users} <= {"ada@example.com", "bo@example.com"}
    for row in users:
        assert row["cost"] == raw.filter(user__email=row["label"]).aggregate(c=Sum("cost"))["c"]
    assert sum(row["calls"] for row in users) == raw.count()


def test_the_control_room_renders_the_charts_with_their_data(admin_client, seeded):
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("data-usage-chart") == 4
    assert "operations/vendor/chartjs/chart.umd.min.js" in page
    assert "operations/usage-charts.js" in page
    match = re.search(
        r'<script id="usage-charts-data" type="application/json">(.*?)</script>', page, re.S
    )
    assert match
    data = json.loads(match.group(1))
    start = TODAY - datetime.timedelta(days=CHART_DAYS - 1)
    raw = raw_in(start, TODAY).aggregate(
        i=Sum("input_tokens"), o=Sum("output_tokens"), c=Sum("cost")
    )
    for by in ("model", "team"):
        assert data[by]["days"][0] == start.isoformat()
        assert sum(sum(s["tokens"]) for s in data[by]["series"]) == raw["i"] + raw["o"]
        assert sum(sum(s["cost"]) for s in data[by]["series"]) == pytest.approx(float(raw["c"]))
    assert "Research" in {s["label"] for s in data["team"]["series"]}
    assert "Top teams by cost" in page
    assert "ada@example.com" in page


def test_staff_without_the_ledger_permission_see_no_money(staff_with, seeded):
    client, user = staff_with("items.view_item")
    page = client.get("/admin/").content.decode()
    assert "usage-charts-data" not in page
    assert usage_dashboard(user=user) is None
    client, user = staff_with("usage.view_modelcall")
    assert "usage-charts-data" in client.get("/admin/").content.decode()


def test_chart_js_is_vendored_with_its_license():
    path = finders.find("operations/vendor/chartjs/chart.umd.min.js")
    assert path
    head = Path(path).read_text()[:200]
    assert "Chart.js v4.6.1" in head
    assert "Released under the MIT License" in head
    assert "sourceMappingURL" not in Path(path).read_text()[-200:]
    assert Path(path).with_name("LICENSE.md").exists()
    assert settings.STATIC_URL
