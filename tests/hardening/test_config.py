"""Configuration: Django's deployment checklist, security headers, CORS and cookies.

The test settings are the production settings (`config.settings.base`) with DEBUG off
and a few local defaults, so what these tests see is what production sends. CSRF for
the cookie-authenticated path is proved in tests/users/test_auth.py.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PASSWORD
from tests.support.reliability import record

ROOT = Path(__file__).resolve().parent.parent.parent
STRICT_REFERRER = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
APP = "https://app.example.com"

pytestmark = [pytest.mark.promise(4), pytest.mark.django_db]


def test_the_deployment_checklist_passes_with_production_settings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "api.example.com",
        # Throttles need a cache every process shares (launch.E001): Redis, as CI has one.
        "REDIS_URL": "redis://127.0.0.1:6379/11",
    }
    for name in (
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_SECURE",
        "CACHE_URL",
    ):
        env.pop(name, None)  # the production defaults, not the test settings' overrides
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "path", ["/api/v1/utils/health-check/", "/api/v1/nowhere", "/admin/login/"]
)
def test_api_and_admin_answers_carry_the_security_headers(client, path, settings):
    response = client.get(path, secure=True)
    record("abuse requests sent", 1)
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] in STRICT_REFERRER
    hsts = response["Strict-Transport-Security"]
    assert f"max-age={settings.SECURE_HSTS_SECONDS}" in hsts
    assert settings.SECURE_HSTS_SECONDS >= 31536000
    assert "includeSubDomains" in hsts


def test_plain_http_is_redirected_to_https_in_production(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/api/v1/utils/health-check/")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")


def test_cors_allows_only_the_configured_origins(client, settings):
    settings.CORS_ALLOWED_ORIGINS = [APP]
    preflight = {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST"}
    allowed = client.options("/api/v1/login/access-token", HTTP_ORIGIN=APP, **preflight)
    assert allowed["Access-Control-Allow-Origin"] == APP
    assert allowed["Access-Control-Allow-Credentials"] == "true"
    for origin in ("https://evil.example.com", "https://app.example.com.evil.net", "null"):
        refused = client.options("/api/v1/login/access-token", HTTP_ORIGIN=origin, **preflight)
        assert "Access-Control-Allow-Origin" not in refused
        assert "Access-Control-Allow-Origin" not in client.get(
            "/api/v1/utils/health-check/", HTTP_ORIGIN=origin
        )
        record("abuse requests sent", 2)


def test_auth_session_and_csrf_cookies_are_httponly_where_possible_secure_and_samesite(
    client, user, superuser
):
    login = client.post(
        "/api/v1/login/access-token", {"username": user.email, "password": PASSWORD}
    )
    for name in ("access_token", "refresh_token"):
        cookie = login.cookies[name]
        assert (cookie["httponly"], cookie["secure"], cookie["samesite"]) == (True, True, "Lax")

    admin = client.get("/admin/login/")
    csrf = admin.cookies["csrftoken"]
    assert (csrf["secure"], csrf["samesite"]) == (True, "Lax")  # read by scripts: not HttpOnly
    signed_in = client.post(
        "/admin/login/?next=/admin/",
        {"username": superuser.email, "password": PASSWORD, "csrfmiddlewaretoken": csrf.value},
    )
    assert signed_in.status_code == 302
    session = signed_in.cookies["sessionid"]
    assert (session["httponly"], session["secure"], session["samesite"]) == (True, True, "Lax")
