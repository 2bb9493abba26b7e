"""Fixtures shared by every test module: API clients and users with known passwords."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from apps.users.models import User

PASSWORD = "correct-horse-battery-staple"
_seq = itertools.count()


@pytest.fixture
def api() -> APIClient:
    """An anonymous API client."""
    return APIClient()


@pytest.fixture
def make_user(db: Any) -> Callable[..., User]:
    def make(email: str | None = None, password: str = PASSWORD, **extra: Any) -> User:
        email = email or f"user{next(_seq)}@example.com"
        return User.objects.create_user(email=email, password=password, **extra)

    return make


@pytest.fixture
def user(make_user: Callable[..., User]) -> User:
    return make_user(full_name="Ada Lovelace")


@pytest.fixture
def superuser(db: Any) -> User:
    return User.objects.create_superuser(email=f"root{next(_seq)}@example.com", password=PASSWORD)


def bearer(user: User) -> str:
    return f"Bearer {RefreshToken.for_user(user).access_token}"


@pytest.fixture
def client_for() -> Callable[[User], APIClient]:
    """`client_for(user)`: an API client authenticated with a fresh access token;
    `client_for(user, team=t)` also names team `t` (a Team or its id) in `X-Team-ID` on
    every request."""

    def make(user: User, team: Any = None) -> APIClient:
        client = APIClient()
        extra = {} if team is None else {"HTTP_X_TEAM_ID": str(getattr(team, "pk", team))}
        client.credentials(HTTP_AUTHORIZATION=bearer(user), **extra)
        return client

    return make


@pytest.fixture
def celery_inline() -> Iterator[None]:
    """Run tasks in this process when they are queued (Celery's eager mode), for tests
    of what a task does rather than of the worker; end-to-end tests use a real worker."""
    from config.celery import app

    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False


@pytest.fixture(scope="session", autouse=True)
def _vacuum_vector_table(django_db_setup: Any, django_db_blocker: Any) -> None:
    """Start every session from a vacuumed vector table.

    A rolled-back test leaves its HNSW index entries behind (index inserts are not
    undone, only vacuumed). On a reused test database they pile up run after run until a
    filtered HNSW scan spends its `max_scan_tuples` on dead entries and returns too few
    rows. Production has autovacuum; a test session has this."""
    from django.db import connection

    if connection.settings_dict["NAME"] != connection.creation._get_test_db_name():  # type: ignore[attr-defined]
        return  # no test of this session uses the database, so none was set up
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("VACUUM vector_store_vectorrecord")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[Any]:
    """A real S3-compatible server (moto's server mode) on a loopback port, for the
    session; each test that uses it makes its own bucket."""
    from tests.support.s3_server import S3Server

    server = S3Server().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: Any, settings: Any) -> str:
    """A fresh bucket on the S3 server, made Launch's default storage for this test."""
    bucket = s3_server.create_bucket()
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage_config(bucket)}
    return str(bucket)
