"""End to end with the shipped server (gunicorn, docker/gunicorn.conf.py) on its default,
the deferred writer: every search books its row a moment after its response, with its
team, and stopping the server writes the rows still queued (gunicorn's `worker_exit`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from apps.teams.services import team_ensure_personal
from apps.usage.models import ModelCall
from tests.conftest import bearer
from tests.projects.conftest import create_project, ingest
from tests.support.shipped_server import shipped_server

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def eventually(condition: Callable[[], Any], *, what: str, limit: float = 30) -> Any:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"gave up waiting: {what}")


def test_searches_are_booked_by_the_deferred_writer_and_a_stop_flushes_it(member):
    team = team_ensure_personal(user=member)
    project = create_project(owner=member)
    ingest(project=project)
    booked = ModelCall.objects.filter(user=member, purpose="query_embedding")
    assert booked.count() == 0

    def search(base: str) -> None:
        answer = requests.post(
            f"{base}/api/v1/search",
            json={"query": "when is high tide", "project_ids": [str(project.pk)]},
            headers={"Authorization": bearer(member)},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text

    with shipped_server(USAGE_LEDGER_DEFERRED="true", WEB_CONCURRENCY="1") as base:
        for _ in range(5):
            search(base)
        eventually(lambda: booked.count() == 5, what="five rows from the writer thread")
        # One more, and the server is stopped at once: its row is still queued (the
        # writer gathers for 0.2 s), and the worker's exit writes it.
        search(base)
    assert booked.count() == 6
    assert set(booked.values_list("team_id", flat=True)) == {team.pk}
