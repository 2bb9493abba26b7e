"""The replica router in one process: which connection serves which read.

The "replica" here is a second connection to the test database (Django's test-mirror
arrangement), so what these tests see is the routing decision, query by query, with real
connections; a refused connection is a real closed port. Replication itself, lag and a
replica going down are proved against a real streaming replica in tests/topology.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test.utils import CaptureQueriesContext

from apps.projects.models import Project
from apps.teams.services import team_ensure_personal
from launch import replicas
from launch.replicas import PIN_COOKIE, ReplicaRouter, replica_reads
from launch.vector_store.models import EmbeddingVersion
from tests.factories import make_member, member, roles
from tests.projects.conftest import create_project, ingest
from tests.support.ports import free_port
from tests.support.settings_probe import settings_value

__all__ = ["make_member", "member", "roles"]  # fixtures

REPLICA = "replica_1"

DOWN = "replica_down"

# The aliases exist before each test's database setup, so Django lets the test use them;
# as test mirrors of "default" they are never flushed or created.
pytestmark = pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA, DOWN])


def _add_alias(alias: str, **overrides: object) -> None:
    connections.settings[alias] = {
        **connections[DEFAULT_DB_ALIAS].settings_dict,
        "TEST": {"MIRROR": DEFAULT_DB_ALIAS},
        **overrides,
    }


def _drop_alias(alias: str) -> None:
    if alias in connections.settings:
        connections[alias].close()
        del connections[alias]
        del connections.settings[alias]


@pytest.fixture(scope="module", autouse=True)
def _aliases(django_db_setup):
    _add_alias(REPLICA)
    # Nothing listens there: connecting is refused at once, like a stopped replica.
    _add_alias(DOWN, HOST="127.0.0.1", PORT=str(free_port()), OPTIONS={"connect_timeout": 2})
    yield
    _drop_alias(REPLICA)
    _drop_alias(DOWN)


@pytest.fixture
def routed(settings):
    """Replicas configured as config/settings/base.py does for DATABASE_REPLICA_URLS."""

    def configure(*aliases: str) -> None:
        settings.DATABASE_REPLICAS = list(aliases)
        settings.DATABASE_ROUTERS = ["launch.replicas.ReplicaRouter"]
        middleware = [m for m in settings.MIDDLEWARE if m != "launch.replicas.ReplicaPinMiddleware"]
        settings.MIDDLEWARE = [
            middleware[0],
            "launch.replicas.ReplicaPinMiddleware",
            *middleware[1:],
        ]
        settings.DATABASE_REPLICA_PIN_SECONDS = 10

    cache.clear()
    replicas._down_until.clear()
    yield configure
    replicas._down_until.clear()
    cache.clear()


@pytest.fixture
def replica(routed):
    routed(REPLICA)
    return REPLICA


class Queries:
    """SQL each connection ran inside the block."""

    def __init__(self, *aliases: str) -> None:
        self.contexts = {alias: CaptureQueriesContext(connections[alias]) for alias in aliases}

    def __enter__(self) -> Queries:
        for context in self.contexts.values():
            context.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        for context in self.contexts.values():
            context.__exit__(*exc)

    def on(self, alias: str, table: str) -> int:
        pattern = re.compile(rf"\b{table}\b")
        return sum(
            bool(pattern.search(query["sql"])) for query in self.contexts[alias].captured_queries
        )


def test_a_list_is_read_from_the_replica_after_authentication_on_the_primary(
    replica, member, client_for
):
    create_project(owner=member, name="Atlas")
    client = client_for(member)
    with Queries(DEFAULT_DB_ALIAS, replica) as queries:
        response = client.get("/api/v1/projects")
    assert response.status_code == 200
    assert [project["name"] for project in response.json()["data"]] == ["Atlas"]
    assert queries.on(replica, "projects_project") >= 1  # the page (short: its own count)
    assert queries.on(DEFAULT_DB_ALIAS, "projects_project") == 0
    assert queries.on(DEFAULT_DB_ALIAS, "users_user") >= 1  # who is asking: the primary
    assert queries.on(replica, "users_user") == 0


def test_search_is_read_from_the_replica_and_counting_it_pins_nobody(replica, member, client_for):
    project = create_project(owner=member)
    ingest(project=project, data=b"The okapi is a giraffid of the Congo rainforest.", name="o.txt")
    client = client_for(member)
    with Queries(DEFAULT_DB_ALIAS, replica) as queries:
        response = client.post("/api/v1/search", {"query": "okapi giraffid"}, format="json")
    assert response.status_code == 200
    assert response.json()["count"] >= 1
    assert queries.on(replica, "vector_store_vectorrecord") >= 1
    assert queries.on(DEFAULT_DB_ALIAS, "vector_store_vectorrecord") == 0
    assert PIN_COOKIE not in response.cookies  # the usage counter is bookkeeping


def test_a_detail_read_stays_on_the_primary(replica, member, client_for):
    project = create_project(owner=member)
    with Queries(DEFAULT_DB_ALIAS, replica) as queries:
        response = client_for(member).get(f"/api/v1/projects/{project.pk}")
    assert response.status_code == 200
    assert queries.on(replica, "projects_project") == 0


def test_after_a_write_the_same_user_reads_the_primary_on_any_process(
    replica, member, make_member, client_for
):
    client = client_for(member)
    response = client.post("/api/v1/projects", {"name": "Fresh"}, format="json")
    assert response.status_code == 201
    assert PIN_COOKIE in response.cookies  # browsers carry the pin themselves

    # A Bearer client keeps no cookies: the cache marker by user id pins it (a shared
    # cache makes every web process honour it).
    other_process = client_for(member)
    with Queries(DEFAULT_DB_ALIAS, replica) as queries:
        listed = other_process.get("/api/v1/projects").json()
    assert [project["name"] for project in listed["data"]] == ["Fresh"]
    assert queries.on(replica, "projects_project") == 0

    # Somebody else, who wrote nothing, reads the replica (its personal team made first,
    # as signup does: an account without one gets it, a write, on its first request).
    somebody = make_member()
    team_ensure_personal(user=somebody)
    with Queries(DEFAULT_DB_ALIAS, replica) as queries:
        assert client_for(somebody).get("/api/v1/projects").status_code == 200
    assert queries.on(replica, "projects_project") >= 1


def test_the_pin_cookie_alone_keeps_a_browser_on_the_primary(replica, member, client_for):
    client = client_for(member)
    assert client.post("/api/v1/projects", {"name": "Fresh"}, format="json").status_code == 201
    cache.clear()  # another process, with no shared cache: only the cookie is left
    with Queries(DEFAULT_DB_ALIAS, replica) as queries:
        assert client.get("/api/v1/projects").status_code == 200
    assert queries.on(replica, "projects_project") == 0

    client.cookies[PIN_COOKIE] = "1"  # expired long ago
    with Queries(DEFAULT_DB_ALIAS, replica) as queries:
        assert client.get("/api/v1/projects").status_code == 200
    assert queries.on(replica, "projects_project") >= 1


def test_a_write_inside_a_lag_tolerant_block_sends_the_reads_after_it_to_the_primary(
    replica, member
):
    router = ReplicaRouter()
    with replica_reads():
        assert router.db_for_read(Project) == replica
        project = create_project(owner=member)
        assert router.db_for_read(Project) == DEFAULT_DB_ALIAS
        assert Project.objects.filter(pk=project.pk).exists()
    with replica_reads():  # a new block (a new request) starts on the replica again
        assert router.db_for_read(Project) == replica


def test_reads_inside_a_primary_transaction_stay_on_the_primary(replica):
    router = ReplicaRouter()
    with transaction.atomic(), replica_reads():
        assert router.db_for_read(Project) == DEFAULT_DB_ALIAS


def test_reads_outside_a_lag_tolerant_block_stay_on_the_primary(replica):
    assert ReplicaRouter().db_for_read(Project) == DEFAULT_DB_ALIAS


def test_a_replica_that_refuses_connections_is_skipped_for_a_while(routed, member, client_for):
    routed(DOWN)
    create_project(owner=member, name="Still there")
    with Queries(DEFAULT_DB_ALIAS) as queries:
        response = client_for(member).get("/api/v1/projects")
    assert response.status_code == 200
    assert [project["name"] for project in response.json()["data"]] == ["Still there"]
    assert queries.on(DEFAULT_DB_ALIAS, "projects_project") >= 1
    # Marked down: the next reads do not try it again within the retry window.
    assert DOWN in replicas._down_until
    assert not replicas.replica_usable(DOWN)


def test_a_down_replica_is_tried_again_after_the_retry_window(routed, settings):
    routed(DOWN)
    settings.DATABASE_REPLICA_RETRY_SECONDS = 0
    assert not replicas.replica_usable(DOWN)
    with replica_reads():  # tried again (the window is over), refused again
        assert ReplicaRouter().db_for_read(Project) == DEFAULT_DB_ALIAS


def test_the_first_usable_replica_serves_when_another_is_down(routed):
    routed(DOWN, REPLICA)
    for _ in range(4):  # the order is shuffled; the down one is never chosen
        with replica_reads():
            assert ReplicaRouter().db_for_read(Project) == REPLICA


def test_migrations_never_target_a_replica(replica):
    router = ReplicaRouter()
    assert router.allow_migrate(replica, "projects") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "projects") is None


@pytest.mark.django_db(transaction=False)
def test_without_replicas_nothing_changes():
    expression = (
        "[sorted(s.DATABASES), s.DATABASE_ROUTERS, [m for m in s.MIDDLEWARE if 'replica' in m]]"
    )
    assert settings_value({}, expression) == [["default"], [], []]


@pytest.mark.django_db(transaction=False)
def test_replica_urls_become_aliases_with_a_short_connect_timeout_and_the_primarys_options():
    urls = [
        "postgres://reader@replica-a:5432/launch",
        "postgres://reader@replica-b:5433/launch?sslmode=require",
    ]
    env = {
        "DATABASE_REPLICA_URLS": ",".join(urls),
        "DATABASE_REPLICA_CONNECT_TIMEOUT": "3",
        "DB_STATEMENT_TIMEOUT_MS": "5000",
    }
    timeout = "-c statement_timeout=5000"  # a replica's API reads are bounded like the primary's
    aliases = settings_value(env, "{a: s.DATABASES[a] for a in s.DATABASE_REPLICAS}")
    assert {
        alias: (db["HOST"], db["PORT"], db["OPTIONS"], db["TEST"]["MIRROR"])
        for alias, db in aliases.items()
    } == {
        "replica_1": ("replica-a", 5432, {"options": timeout, "connect_timeout": 3}, "default"),
        "replica_2": (
            "replica-b",
            5433,
            {"options": timeout, "sslmode": "require", "connect_timeout": 3},
            "default",
        ),
    }
    assert settings_value(env, "[s.DATABASE_ROUTERS, s.MIDDLEWARE[1]]") == [
        ["launch.replicas.ReplicaRouter"],
        "launch.replicas.ReplicaPinMiddleware",
    ]


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_a_search_before_any_embedding_version_writes_nothing_and_pins_nobody(
    replica, member, client_for, mode
):
    """A replica that has not replayed the first embedding version yet looks like a
    store with none: the search answers from what it sees (nothing) instead of
    registering a version on the primary, which pinned its user and sent the search,
    and the user's next reads, to the primary."""
    create_project(owner=member)
    assert not EmbeddingVersion.objects.exists()
    response = client_for(member).post(
        "/api/v1/search", {"query": "okapi", "mode": mode}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"data": [], "count": 0}
    assert PIN_COOKIE not in response.cookies
    assert not EmbeddingVersion.objects.exists()
