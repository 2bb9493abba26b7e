"""`POST /api/v1/private/users/`: upstream's local-only route for its end-to-end tests."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from apps.users.models import User
from tests.conftest import PASSWORD
from tests.users.conftest import assert_envelope, login

pytestmark = pytest.mark.django_db

URL = "/api/v1/private/users/"
BODY = {
    "email": "e2e@example.com",
    "password": PASSWORD,
    "full_name": "End To End",
    "is_verified": True,
}


@pytest.fixture
def enabled(settings):
    settings.ENABLE_PRIVATE_API = True


@pytest.mark.parametrize("path", [URL, URL.rstrip("/")])
def test_creates_an_active_user_answering_user_public(api, enabled, path):
    response = api.post(path, BODY, format="json")
    assert response.status_code == 201
    body = response.json()
    assert {"id", "email", "is_active", "is_superuser", "full_name"} <= set(body)
    assert (body["email"], body["full_name"], body["is_active"]) == (
        "e2e@example.com",
        "End To End",
        True,
    )
    assert body["is_superuser"] is False
    assert body["roles"] == ["member"]  # as a sign-up: the default role
    assert login(APIClient(), "e2e@example.com").status_code == 200


def test_is_verified_and_full_name_are_optional(api, enabled):
    response = api.post(URL, {"email": "min@example.com", "password": PASSWORD}, format="json")
    assert response.status_code == 201
    assert response.json()["full_name"] == ""


def test_it_never_makes_a_superuser(api, enabled):
    body = {**BODY, "is_superuser": True, "is_staff": True}
    assert api.post(URL, body, format="json").status_code == 201
    user = User.objects.get(email="e2e@example.com")
    assert (user.is_superuser, user.is_staff) == (False, False)


def test_a_taken_email_is_409_and_bad_input_422(api, enabled):
    assert api.post(URL, BODY, format="json").status_code == 201
    assert_envelope(api.post(URL, BODY, format="json"), 409)
    assert_envelope(api.post(URL, {**BODY, "email": "not-an-email"}, format="json"), 422)
    assert_envelope(api.post(URL, {**BODY, "is_verified": "perhaps"}, format="json"), 422)
    weak = {**BODY, "email": "weak@example.com", "password": "short"}
    assert_envelope(api.post(URL, weak, format="json"), 422)


@pytest.mark.parametrize("method", ["get", "post", "put", "delete"])
def test_absent_unless_enabled(api, settings, method):
    settings.ENABLE_PRIVATE_API = False
    response = getattr(api, method)(URL, BODY, format="json")
    assert_envelope(response, 404)
    assert not User.objects.filter(email="e2e@example.com").exists()


def test_the_schema_documents_it_only_where_it_answers(api, settings):
    settings.ENABLE_PRIVATE_API = False
    assert "/api/v1/private/users/" not in api.get("/api/v1/openapi.json").json()["paths"]
    settings.ENABLE_PRIVATE_API = True
    operation = api.get("/api/v1/openapi.json").json()["paths"]["/api/v1/private/users/"]
    assert operation["post"]["operationId"] == "private-create_user"
