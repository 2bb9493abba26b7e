"""`/utils/health-check/` and `/utils/test-email/`."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import OperationalError, connection

from config.celery import app
from tests.users.conftest import assert_envelope

pytestmark = pytest.mark.django_db

HEALTH = "/api/v1/utils/health-check/"
TEST_EMAIL = "/api/v1/utils/test-email/"


def refuse_queries(execute, sql, params, many, context):
    raise OperationalError("connection refused (simulated)")


@pytest.fixture
def dead_broker(monkeypatch):
    # A real connection attempt to a port where nothing listens: fails fast.
    monkeypatch.setitem(app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(app.conf, "broker_transport_options", {})


def test_health_check_ok(api):
    response = api.get(HEALTH)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": "ok", "broker": "ok"}
    assert {"status", "version", "message", "deployment"} <= set(body)
    assert api.get(HEALTH.rstrip("/")).status_code == 200


def test_health_check_names_a_dead_database(api):
    with connection.execute_wrapper(refuse_queries):
        response = api.get(HEALTH)
    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == {"database": "unavailable", "broker": "ok"}
    assert "database" in body["detail"]


def test_health_check_names_a_dead_broker(api, dead_broker):
    response = api.get(HEALTH)
    assert response.status_code == 503
    body = response.json()
    assert body["checks"] == {"database": "ok", "broker": "unavailable"}
    assert body["detail"] == "Unavailable: broker"


def test_health_check_ignores_a_broken_cookie(api):
    api.cookies["access_token"] = "garbage"
    assert api.get(HEALTH).status_code == 200


def test_test_email_sends_for_superuser(superuser, client_for):
    response = client_for(superuser).post(TEST_EMAIL + "?email_to=ops@example.com")
    assert response.status_code == 201
    assert set(response.json()) == {"message"}
    assert mail.outbox[0].to == ["ops@example.com"]
    assert mail.outbox[0].alternatives[0][1] == "text/html"  # type: ignore[union-attr]


def test_test_email_errors(api, user, superuser, client_for):
    assert_envelope(api.post(TEST_EMAIL + "?email_to=ops@example.com"), 401)
    assert_envelope(client_for(user).post(TEST_EMAIL + "?email_to=ops@example.com"), 403)
    detail = assert_envelope(client_for(superuser).post(TEST_EMAIL + "?email_to=nope"), 422)
    assert detail[0]["loc"] == ["query", "email_to"]
    assert_envelope(client_for(superuser).post(TEST_EMAIL), 422)


def test_test_email_smtp_down_is_503(superuser, client_for, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", 1
    response = client_for(superuser).post(TEST_EMAIL + "?email_to=ops@example.com")
    assert_envelope(response, 503)
