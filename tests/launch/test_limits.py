"""Bounded cost per request: per-user rate limits, the statement timeout and its 503, the
shared-cache deployment check, and the background processes' own timeout."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError, connection
from django.http import HttpResponse
from django.test import RequestFactory

from apps.chat import services as chat
from launch.checks import check_shared_cache
from launch.db import ClientGone, use_background_statement_timeout, with_statement_timeout
from launch.middleware import ApiErrorMiddleware
from launch.vector_store.services.versions import active_version
from tests.factories import make_member, roles
from tests.projects.conftest import create_project
from tests.support.processes import database_url
from tests.users.conftest import assert_envelope

__all__ = ["make_member", "roles"]

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def rates(settings, **scopes: str) -> None:
    framework = settings.REST_FRAMEWORK
    settings.REST_FRAMEWORK = {
        **framework,
        "DEFAULT_THROTTLE_RATES": {**framework["DEFAULT_THROTTLE_RATES"], **scopes},
    }


def assert_throttled(response) -> None:
    assert_envelope(response, 429)
    assert int(response["Retry-After"]) >= 1


# --- per-user rate limits ----------------------------------------------------------------


def test_search_is_limited_per_user(make_member, client_for, settings):
    rates(settings, search="2/min")
    first, second = make_member(), make_member()
    for user in (first, second):
        create_project(owner=user)
    for _ in range(2):
        assert client_for(first).post("/api/v1/search", {"query": "tides"}).status_code == 200
    assert_throttled(client_for(first).post("/api/v1/search", {"query": "tides"}))
    assert client_for(second).post("/api/v1/search", {"query": "tides"}).status_code == 200


def test_messages_and_streamed_messages_share_the_chat_limit(make_member, client_for, settings):
    rates(settings, chat="2/min")
    user = make_member()
    conversation = chat.conversation_create(user=user, title="T", use_documents=False)
    url = f"/api/v1/chat/conversations/{conversation.pk}/messages"
    client = client_for(user)
    assert client.post(url, {"content": "hello"}, format="json").status_code == 201
    assert client.post(url + "/stream", {"content": "hello"}, format="json").status_code == 200
    assert_throttled(client.post(url, {"content": "hello"}, format="json"))
    assert_throttled(client.post(url + "/stream", {"content": "hello"}, format="json"))
    # Reading is not limited.
    assert client.get(f"/api/v1/chat/conversations/{conversation.pk}/detail").status_code == 200


def test_uploads_are_limited_per_user(make_member, client_for, settings):
    rates(settings, upload="2/min")
    user = make_member()
    project = create_project(owner=user)
    url = f"/api/v1/projects/{project.pk}/documents"

    def send():
        upload = SimpleUploadedFile("notes.txt", b"The tide turns at six.", "text/plain")
        return client_for(user).post(url, {"file": upload}, format="multipart")

    assert [send().status_code for _ in range(2)] == [201, 201]
    assert_throttled(send())
    assert client_for(user).get(url).status_code == 200  # the list is not limited


# --- statement timeout -------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_statement_over_the_timeout_is_a_503_in_the_envelope(make_member, client_for):
    """Deterministic: the search waits on a lock the test holds until the timeout fires."""
    user = make_member()
    create_project(owner=user)
    active_version()  # a store with a version: the search reads the locked table
    with psycopg.connect(database_url()) as locker:
        locker.execute("LOCK TABLE vector_store_vectorrecord IN ACCESS EXCLUSIVE MODE")
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 300")
        try:
            response = client_for(user).post("/api/v1/search", {"query": "tides"})
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout")
        locker.rollback()

    detail = assert_envelope(response, 503)
    assert "took too long" in detail


def test_a_timeout_outside_drf_is_a_503_too():
    cancelled = OperationalError("canceling statement due to statement timeout")
    cancelled.__cause__ = psycopg.errors.QueryCanceled()
    request = RequestFactory().get("/api/v1/anything")
    middleware = ApiErrorMiddleware(lambda r: HttpResponse())
    response = middleware.process_exception(request, cancelled)
    assert response is not None
    assert response.status_code == 503


def show_timeout() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        return str(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)  # switching closes the connection
def test_connections_open_with_the_timeout_until_switched_to_the_background_one(settings):
    options = settings.DATABASES["default"]["OPTIONS"]
    original = options["options"]
    try:
        options["options"] = with_statement_timeout(original, 15_000)  # a web process's
        connection.close()
        assert show_timeout() == "15s"
        settings.DB_BACKGROUND_STATEMENT_TIMEOUT_MS = 600_000
        use_background_statement_timeout()
        assert show_timeout() == "10min"
    finally:
        options["options"] = original
        connection.close()


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("", "-c statement_timeout=15000"),
        ("-c search_path=app", "-c search_path=app -c statement_timeout=15000"),
        ("-c statement_timeout=5 -c work_mem=4MB", "-c work_mem=4MB -c statement_timeout=15000"),
    ],
)
def test_the_timeout_option_composes_with_other_options(options, expected):
    assert with_statement_timeout(options, 15_000) == expected


def test_a_client_gone_signal_runs_its_callbacks_once_and_then_never():
    gone = ClientGone()
    ran = threading.Event()
    calls: list[int] = []

    def callback() -> None:
        calls.append(1)
        ran.set()

    gone.add(callback)
    removed = gone.add(lambda: calls.append(99))
    gone.remove(removed)
    gone.set()
    gone.set()
    assert ran.wait(10)
    assert gone.is_set()
    assert calls == [1]


# --- shared counters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("backend", "debug", "refused"),
    [
        ("django.core.cache.backends.locmem.LocMemCache", False, True),
        ("django.core.cache.backends.dummy.DummyCache", False, True),
        ("django.core.cache.backends.redis.RedisCache", False, False),
        ("launch.cache.RedisCache", False, False),
        ("django.core.cache.backends.locmem.LocMemCache", True, False),
    ],
)
def test_deploy_check_refuses_a_per_process_cache_in_production(settings, backend, debug, refused):
    settings.DEBUG = debug
    settings.CACHES = {"default": {"BACKEND": backend}}
    errors = check_shared_cache()
    assert [e.id for e in errors] == (["launch.E001"] if refused else [])
