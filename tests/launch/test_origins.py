"""The origin check for cookie-authenticated writes (launch/api/origins.py), unit by unit.

Requests come from Django's RequestFactory with the headers a browser would send; the
end-to-end proof with a real browser is tests/browser.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.middleware.csrf import get_token
from django.test import RequestFactory

from launch.api.origins import (
    TrustedOrigins,
    cookie_write_refusal,
    normalize_origin,
    stated_origin_refusal,
)

API = "localhost:8000"
SPA = "http://localhost:5173"


@pytest.fixture(autouse=True)
def _origins(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["localhost", "api.example.com"]
    settings.CORS_ALLOWED_ORIGINS = [SPA]
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.org", "https://admin.example.net"]


def post(*, method: str = "post", **headers: str) -> Any:
    return getattr(RequestFactory(), method)("/api/v1/items/", HTTP_HOST=API, **headers)


# --- normalize_origin ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http://localhost:5173", "http://localhost:5173"),
        ("HTTP://LocalHost:5173/", "http://localhost:5173"),
        ("http://localhost:5173/some/page?x=1#y", "http://localhost:5173"),
        ("https://app.example.com:443", "https://app.example.com"),
        ("http://app.example.com:80/", "http://app.example.com"),
        ("https://app.example.com:8443", "https://app.example.com:8443"),
        ("http://[::1]:8000/", "http://[::1]:8000"),
        ("null", None),
        ("", None),
        ("localhost:5173", None),
        ("file:///etc/passwd", None),
        ("chrome-extension://abc", None),
        ("http://localhost:99999", None),
        ("http://", None),
    ],
)
def test_normalize_origin(value, expected):
    assert normalize_origin(value) == expected


def test_trusted_origins_match_exactly_or_by_wildcard_subdomain():
    trusted = TrustedOrigins(["http://localhost:5173/", "https://*.example.org"])
    assert "http://localhost:5173" in trusted
    assert "http://localhost:5174" not in trusted
    assert "https://localhost:5173" not in trusted
    assert "https://app.example.org" in trusted
    assert "https://deep.app.example.org" in trusted
    assert "http://app.example.org" not in trusted  # the scheme is part of the origin
    assert "https://example.org.evil.net" not in trusted
    assert "https://evilexample.org" not in trusted
    assert None not in trusted


# --- cookie_write_refusal -----------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "head", "options"])
def test_safe_methods_are_never_refused(method):
    assert cookie_write_refusal(post(method=method, HTTP_ORIGIN="http://evil.test")) is None


@pytest.mark.parametrize(
    "origin",
    [
        SPA,  # CORS_ALLOWED_ORIGINS (where the settings put FRONTEND_URL's origin)
        "http://localhost:8000",  # the API's own origin
        "https://admin.example.net",  # CSRF_TRUSTED_ORIGINS
        "https://app.example.org",  # a CSRF_TRUSTED_ORIGINS wildcard
    ],
)
def test_a_trusted_origin_is_accepted(origin):
    assert cookie_write_refusal(post(HTTP_ORIGIN=origin)) is None


@pytest.mark.parametrize(
    "origin",
    [
        "http://localhost:5174",  # same site as the API, another port: not trusted
        "http://127.0.0.1:5173",
        "https://localhost:5173",
        "http://evil.test",
        "http://localhost:5173.evil.test",
    ],
)
def test_an_untrusted_origin_is_refused_and_named(origin):
    reason = cookie_write_refusal(post(HTTP_ORIGIN=origin))
    assert reason is not None
    assert reason.startswith("CSRF failed")
    assert origin in reason


def test_origin_null_is_refused_without_falling_back_to_referer():
    reason = cookie_write_refusal(post(HTTP_ORIGIN="null", HTTP_REFERER=f"{SPA}/items"))
    assert reason is not None
    assert "'null'" in reason


def test_without_origin_a_trusted_referer_is_accepted():
    assert cookie_write_refusal(post(HTTP_REFERER=f"{SPA}/items?page=2")) is None


def test_without_origin_an_untrusted_referer_is_refused():
    reason = cookie_write_refusal(post(HTTP_REFERER="http://evil.test/page"))
    assert reason is not None
    assert "Referer 'http://evil.test'" in reason


def test_a_cookie_write_with_neither_origin_nor_referer_is_refused():
    reason = cookie_write_refusal(post())
    assert reason is not None
    assert "Origin or Referer" in reason
    assert "Bearer" in reason


def test_origin_wins_over_a_trusted_referer():
    assert cookie_write_refusal(post(HTTP_ORIGIN="http://evil.test", HTTP_REFERER=SPA))


def test_sec_fetch_site_same_origin_is_accepted_without_origin():
    assert cookie_write_refusal(post(HTTP_SEC_FETCH_SITE="same-origin")) is None


def test_sec_fetch_site_same_site_does_not_make_an_untrusted_origin_trusted():
    request = post(HTTP_SEC_FETCH_SITE="same-site", HTTP_ORIGIN="http://localhost:5174")
    assert cookie_write_refusal(request) is not None


def test_sec_fetch_site_cross_site_from_a_trusted_origin_is_accepted():
    # A front end on another site, with AUTH_COOKIE_SAMESITE=None so its cookies travel.
    request = post(HTTP_SEC_FETCH_SITE="cross-site", HTTP_ORIGIN=SPA)
    assert cookie_write_refusal(request) is None


def _with_csrf_token(**headers: str) -> Any:
    """A request carrying a valid Django CSRF token: cookie plus X-CSRFToken header."""
    source = RequestFactory().get("/")
    token = get_token(source)
    request = post(HTTP_X_CSRFTOKEN=token, **headers)
    request.COOKIES["csrftoken"] = source.META["CSRF_COOKIE"]
    return request


def test_a_valid_django_csrf_token_still_passes():
    assert cookie_write_refusal(_with_csrf_token()) is None


def test_a_wrong_django_csrf_token_does_not_pass():
    request = _with_csrf_token()
    request.META["HTTP_X_CSRFTOKEN"] = "x" * 32
    assert cookie_write_refusal(request) is not None


def test_a_django_token_does_not_excuse_a_cross_site_request_from_an_untrusted_page():
    request = _with_csrf_token(HTTP_SEC_FETCH_SITE="cross-site", HTTP_REFERER="http://evil.test/")
    assert cookie_write_refusal(request) is not None


def test_django_test_client_opt_out_is_honoured_as_by_djangos_middleware():
    request = post(HTTP_ORIGIN="http://evil.test")
    request._dont_enforce_csrf_checks = True
    assert cookie_write_refusal(request) is None


# --- stated_origin_refusal (login) --------------------------------------------------------


def test_login_from_a_program_that_states_no_origin_is_accepted():
    assert stated_origin_refusal(post()) is None


def test_login_from_a_trusted_page_is_accepted():
    assert stated_origin_refusal(post(HTTP_ORIGIN=SPA)) is None
    assert stated_origin_refusal(post(HTTP_SEC_FETCH_SITE="same-origin")) is None


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "http://evil.test"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_REFERER": "http://localhost:5174/"},
    ],
)
def test_login_from_a_page_on_an_untrusted_origin_is_refused(headers):
    reason = stated_origin_refusal(post(**headers))
    assert reason is not None
    assert reason.startswith("CSRF failed")
