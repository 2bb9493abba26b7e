"""Throttles hold across processes: two Launch servers sharing one Redis count together.

Each server is its own process (uvicorn serving config.asgi) with the test settings, a
real rate (`TEST_THROTTLE_<SCOPE>_RATE`) and the cache in Redis database 11, which only
these tests use and flush. With a per-process cache each server would let the full rate
through, so the totals below would double.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
import requests

from tests.conftest import bearer
from tests.factories import make_member, roles
from tests.projects.conftest import create_project
from tests.support.reliability import record
from tests.support.servers import LaunchServer

__all__ = ["make_member", "roles"]

pytestmark = [pytest.mark.e2e, pytest.mark.promise(4), pytest.mark.django_db(transaction=True)]

REDIS_URL = "redis://127.0.0.1:6379/11"
LOGIN_RATE = 6
SEARCH_RATE = 4


@pytest.fixture
def shared_redis() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()  # database 11 is this module's alone
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


@pytest.fixture
def two_servers(shared_redis: redis.Redis) -> Iterator[tuple[LaunchServer, LaunchServer]]:
    env = {
        "CACHE_URL": REDIS_URL,
        "TEST_THROTTLE_LOGIN_RATE": f"{LOGIN_RATE}/min",
        "TEST_THROTTLE_SEARCH_RATE": f"{SEARCH_RATE}/min",
    }
    with LaunchServer(extra_env=env) as first, LaunchServer(extra_env=env) as second:
        yield first, second


def test_login_attempts_spread_over_two_processes_are_limited_in_total(user, two_servers):
    answers = []
    for attempt in range(2 * LOGIN_RATE):
        server = two_servers[attempt % 2]
        answers.append(
            requests.post(
                f"{server.url}/api/v1/login/access-token",
                data={"username": user.email, "password": "not-the-password-1"},
                timeout=30,
            )
        )
    record("abuse requests sent", len(answers))

    assert [a.status_code for a in answers] == [400] * LOGIN_RATE + [429] * LOGIN_RATE
    refused = answers[-1]
    assert int(refused.headers["Retry-After"]) >= 1
    assert set(refused.json()) == {"detail"}


def test_a_users_searches_over_two_processes_are_limited_in_total(make_member, two_servers):
    searcher = make_member()
    create_project(owner=searcher)
    headers = {"Authorization": bearer(searcher)}
    statuses = []
    for attempt in range(2 * SEARCH_RATE):
        server = two_servers[attempt % 2]
        response = requests.post(
            f"{server.url}/api/v1/search", json={"query": "tides"}, headers=headers, timeout=30
        )
        statuses.append(response.status_code)
    record("abuse requests sent", len(statuses))

    assert statuses == [200] * SEARCH_RATE + [429] * SEARCH_RATE
