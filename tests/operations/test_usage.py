"""Usage counts: searches append events, beat rolls them up, the control room adds both."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from apps.operations import services, tasks
from apps.operations.models import UsageCounter, UsageEvent
from apps.operations.selectors import usage_total
from tests.projects.conftest import create_project

pytestmark = pytest.mark.django_db


def volume(client) -> dict[str, int]:
    response = client.get("/admin/")
    assert response.status_code == 200
    (card,) = [card for card in response.context["control_room"] if card.title == "Volume"]
    return {stat.label: stat.value for stat in card.stats}


def test_roll_up_usage_moves_events_into_daily_counters_once():
    services.usage_record(name="search")
    services.usage_record(name="search")
    services.usage_record(name="chat")
    old = UsageEvent.objects.create(name="search", created_at=timezone.now() - timedelta(days=1))
    assert tasks.roll_up_usage() == {"events": 4}
    today = timezone.localdate()
    assert {(c.name, c.day): c.count for c in UsageCounter.objects.all()} == {
        ("search", today): 2,
        ("chat", today): 1,
        ("search", timezone.localdate(old.created_at)): 1,
    }
    assert not UsageEvent.objects.exists()
    # Later uses add to the same rows; a roll-up with nothing new adds nothing.
    services.usage_record(name="search")
    assert services.usage_roll_up() == 1
    assert services.usage_roll_up() == 0
    assert UsageCounter.objects.get(name="search", day=today).count == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_roll_ups_count_each_event_once():
    for _ in range(50):
        services.usage_record(name="search")
    start = threading.Barrier(4)

    def roll_up(_: int) -> int:
        try:
            start.wait()
            return services.usage_roll_up()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        folded = list(pool.map(roll_up, range(4)))
    assert sum(folded) == 50
    assert UsageCounter.objects.get(name="search").count == 50
    assert not UsageEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_counting_a_search_waits_on_no_other_search():
    """A search still in flight (its transaction open, its use counted) does not hold
    up the next one: with a lock timeout, a wait on a row lock would raise."""
    services.usage_record(name="search")
    services.usage_roll_up()  # today's counter row exists: the old code updated it
    counted, release = threading.Event(), threading.Event()

    def in_flight() -> None:
        try:
            with transaction.atomic():
                services.usage_record(name="search")
                counted.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=in_flight)
    thread.start()
    try:
        assert counted.wait(timeout=30)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '1s'")
            services.usage_record(name="search")
            services.usage_roll_up()  # the roll-up does not wait for it either
    finally:
        release.set()
        thread.join()
    assert usage_total(name="search", since=timezone.localdate()) == 3


def test_the_control_room_counts_rolled_up_and_pending_uses(admin_client):
    today = timezone.localdate()
    UsageCounter.objects.create(name="search", day=today - timedelta(days=6), count=5)
    UsageCounter.objects.create(name="search", day=today - timedelta(days=7), count=100)
    UsageCounter.objects.create(name="chat", day=today, count=9)
    services.usage_record(name="search")
    services.usage_record(name="search")
    assert volume(admin_client)["searches today"] == 2
    assert volume(admin_client)["searches in 7 days"] == 7

    services.usage_roll_up()
    services.usage_record(name="search")
    numbers = volume(admin_client)
    assert (numbers["searches today"], numbers["searches in 7 days"]) == (3, 8)


def test_a_search_request_is_counted_once_it_succeeded(admin_client, member, client_for):
    create_project(owner=member)
    api = client_for(member)
    assert api.post("/api/v1/search", {"query": "anything"}, format="json").status_code == 200
    assert api.post("/api/v1/search", {"query": ""}, format="json").status_code == 422
    assert list(UsageEvent.objects.values_list("name", flat=True)) == ["search"]
    assert volume(admin_client)["searches today"] == 1


def test_the_counter_admin_says_what_is_not_rolled_up_yet(admin_client):
    services.usage_record(name="search")
    page = admin_client.get("/admin/operations/usagecounter/")
    assert page.status_code == 200
    assert "1 use(s) since the last roll-up" in page.content.decode()
    services.usage_roll_up()
    page = admin_client.get("/admin/operations/usagecounter/")
    assert "since the last roll-up" not in page.content.decode()
    assert "search" in page.content.decode()
