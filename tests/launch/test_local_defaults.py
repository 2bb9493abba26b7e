"""What `make run` gives a browser front end without extra settings, and what production
keeps requiring: trusted origins, cookie flags, token lifetimes, JSON errors under DEBUG.

The settings modules are executed afresh (runpy) with a controlled environment, so each
case sees exactly the defaults a process started that way would.
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent.parent
READ = (
    "DEBUG",
    "FRONTEND_URL",
    "CORS_ALLOWED_ORIGINS",
    "CSRF_TRUSTED_ORIGINS",
    "AUTH_COOKIE_SECURE",
    "ACCESS_TOKEN_EXPIRE_MINUTES",
    "ACCESS_TOKEN_EXPIRE_SECONDS",
    "ENABLE_PRIVATE_API",
)


def load_settings(monkeypatch: Any, tmp_path: Path, **env: str) -> dict[str, Any]:
    for name in READ:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    monkeypatch.setenv("DATABASE_URL", "postgres://launch@localhost:5432/launch")
    monkeypatch.setenv("CELERY_BROKER_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "config" / "settings" / "base.py"))


def test_debug_trusts_the_default_front_end_origin_for_cors(monkeypatch, tmp_path):
    settings = load_settings(monkeypatch, tmp_path, DEBUG="true")
    assert settings["CORS_ALLOWED_ORIGINS"] == ["http://localhost:5173"]
    assert settings["CORS_ALLOW_CREDENTIALS"] is True
    # http://localhost: Secure cookies would never come back over plain HTTP.
    assert settings["AUTH_COOKIE_SECURE"] is False
    assert settings["ENABLE_PRIVATE_API"] is True


def test_debug_trusts_the_origin_of_a_configured_front_end_url(monkeypatch, tmp_path):
    settings = load_settings(
        monkeypatch, tmp_path, DEBUG="true", FRONTEND_URL="http://localhost:18101/app/"
    )
    assert settings["CORS_ALLOWED_ORIGINS"] == ["http://localhost:18101"]


def test_production_trusts_no_origin_nobody_configured(monkeypatch, tmp_path):
    settings = load_settings(monkeypatch, tmp_path, DEBUG="false")
    assert settings["FRONTEND_URL"] == "http://localhost:5173"  # for links only
    assert settings["CORS_ALLOWED_ORIGINS"] == []
    assert settings["AUTH_COOKIE_SECURE"] is True
    assert settings["ENABLE_PRIVATE_API"] is False


def test_production_trusts_an_explicit_front_end_url_once(monkeypatch, tmp_path):
    settings = load_settings(
        monkeypatch,
        tmp_path,
        DEBUG="false",
        FRONTEND_URL="https://app.example.com",
        CORS_ALLOWED_ORIGINS="https://app.example.com,https://admin.example.com",
    )
    assert settings["CORS_ALLOWED_ORIGINS"] == [
        "https://app.example.com",
        "https://admin.example.com",
    ]


def test_a_front_end_url_that_is_not_http_fails_at_start_up(monkeypatch, tmp_path):
    with pytest.raises(ImproperlyConfigured, match="FRONTEND_URL"):
        load_settings(monkeypatch, tmp_path, DEBUG="false", FRONTEND_URL="app.example.com")


def test_access_token_lifetime_in_seconds_wins_over_minutes(monkeypatch, tmp_path):
    minutes = load_settings(monkeypatch, tmp_path, ACCESS_TOKEN_EXPIRE_MINUTES="20")
    assert minutes["SIMPLE_JWT"]["ACCESS_TOKEN_LIFETIME"].total_seconds() == 1200
    seconds = load_settings(
        monkeypatch, tmp_path, ACCESS_TOKEN_EXPIRE_MINUTES="20", ACCESS_TOKEN_EXPIRE_SECONDS="3"
    )
    assert seconds["SIMPLE_JWT"]["ACCESS_TOKEN_LIFETIME"].total_seconds() == 3


# --- JSON for every /api/ answer, DEBUG included ------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v1/nowhere", 404),
        ("post", "/api/nowhere/at/all/", 404),
        ("get", "/api/", 404),
        ("delete", "/api/v1/login/access-token", 405),
        ("put", "/api/v1/utils/health-check/", 405),
    ],
)
def test_unknown_routes_and_wrong_methods_answer_json(client, debug, method, path, status):
    with override_settings(DEBUG=debug):
        response = getattr(client, method)(path)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}
    if status == 405:
        assert response.json()["detail"] == f'Method "{method.upper()}" not allowed.'
        assert "Allow" in response


@pytest.mark.django_db
def test_a_bad_host_under_debug_answers_json_on_the_api(client, settings):
    settings.ALLOWED_HOSTS = ["api.example.com"]
    with override_settings(DEBUG=True):
        response = client.get("/api/v1/utils/health-check/", HTTP_HOST="evil.test")
    assert response.status_code == 400
    assert response.json() == {"detail": "Bad request."}


@pytest.mark.django_db
def test_pages_outside_the_api_keep_their_html(client):
    with override_settings(DEBUG=True):
        response = client.get("/nowhere")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_the_json_rewrite_keeps_headers_and_cookies(client):
    with override_settings(DEBUG=True):
        response = client.get("/api/v1/nowhere", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    assert response["X-Content-Type-Options"] == "nosniff"
