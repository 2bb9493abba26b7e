"""Domain errors (`launch.errors`) reach clients through the one exception handler, and
services raise nothing HTTP-shaped."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from apps.rbac.rights import Refused
from launch import errors
from launch.api.authentication import JWTAuthentication

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def _view(raising: Exception, authenticators: list[type] | None = None) -> type[APIView]:
    class Raising(APIView):
        authentication_classes = authenticators or []
        permission_classes = []

        def get(self, request: Request) -> None:
            raise raising

    return Raising


@pytest.mark.parametrize(
    ("error", "status", "detail"),
    [
        (errors.Invalid("Incorrect password"), 400, "Incorrect password"),
        (errors.PermissionDenied(), 403, "You do not have permission to perform this action."),
        (Refused("You may not share this."), 403, "You may not share this."),
        (errors.NotFound("Project not found."), 404, "Project not found."),
        (errors.Conflict("Taken."), 409, "Taken."),
    ],
)
def test_domain_errors_map_to_their_status_and_the_envelope(error, status, detail):
    response = _view(error).as_view()(APIRequestFactory().get("/"))
    assert response.status_code == status
    assert response.data == {"detail": detail}


def test_quota_errors_carry_the_limit_403_for_a_holding_429_for_a_window():
    import datetime
    import time

    held = errors.QuotaExceeded("Full.", quota="documents", limit=3, used=3)
    response = _view(held).as_view()(APIRequestFactory().get("/"))
    assert response.status_code == 403
    assert response.data == {
        "detail": "Full.",
        "quota": "documents",
        "limit": 3,
        "used": 3,
        "resets_at": None,
    }
    assert "Retry-After" not in response

    resets_at = datetime.datetime.fromtimestamp(int(time.time()) + 30, tz=datetime.UTC)
    rate = errors.RateLimited(
        "Slow down.", quota="per_minute", limit=5, used=5, resets_at=resets_at, rate=True
    )
    response = _view(rate).as_view()(APIRequestFactory().get("/"))
    assert response.status_code == 429
    assert response.data["resets_at"] == resets_at.isoformat()
    assert 1 <= int(response["Retry-After"]) <= 30
    assert response["X-RateLimit-Limit"] == "5"
    assert response["X-RateLimit-Remaining"] == "0"
    assert response["X-RateLimit-Reset"] == str(int(resets_at.timestamp()))


def test_not_authenticated_is_401_with_the_views_challenge():
    error = errors.NotAuthenticated("Refresh token is invalid", code="token_not_valid")
    response = _view(error, [JWTAuthentication]).as_view()(APIRequestFactory().get("/"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.data == {"detail": "Refresh token is invalid"}


def test_not_authenticated_without_a_scheme_is_403_as_drf_answers():
    response = _view(errors.NotAuthenticated()).as_view()(APIRequestFactory().get("/"))
    assert response.status_code == 403
    assert "WWW-Authenticate" not in response


def test_domain_errors_carry_a_code_and_a_default_message():
    assert (errors.NotFound().code, errors.NotFound().message) == ("not_found", "Not found.")
    assert errors.Invalid("x", code="expired").code == "expired"
    assert str(errors.Conflict("Taken.")) == "Taken."


def _service_modules() -> list[Path]:
    apps = ROOT / "apps"
    patterns = ["services.py", "services/*.py", "tokens.py", "recovery.py", "email_change.py"]
    return sorted(path for pattern in patterns for path in apps.glob(f"*/{pattern}"))


@pytest.mark.parametrize("path", _service_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_services_raise_no_http_errors(path):
    tree = ast.parse(path.read_text())
    imported: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported += [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
    http_bound = [
        name
        for name in imported
        if name.startswith(("rest_framework.exceptions", "launch.api.exceptions"))
        or name in ("rest_framework.exceptions", "django.http.Http404", "rest_framework.status")
    ]
    assert http_bound == []
