"""The API conventions of `launch/api`, exercised through real endpoints."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, OperationalError, connection
from rest_framework import exceptions

from launch.api.exceptions import exception_handler, validation_items
from tests.users.conftest import assert_envelope

pytestmark = pytest.mark.django_db

USERS = "/api/v1/users/"


def refuse_queries(execute, sql, params, many, context):
    raise OperationalError("connection refused (simulated)")


@pytest.mark.parametrize(
    "path", ["/api/v1/users/me", "/api/v1/users/me/", "/api/v1/login/test-token/"]
)
def test_routes_answer_with_and_without_trailing_slash(user, client_for, path):
    client = client_for(user)
    response = client.post(path) if "test-token" in path else client.get(path)
    assert response.status_code == 200


def test_unknown_api_url_is_a_json_404(api):
    assert assert_envelope(api.get("/api/v1/no-such-thing"), 404) == "Not found."
    assert_envelope(api.post("/api/v1/users/me/nothing/here"), 404)


def test_wrong_method_is_405_with_envelope(user, client_for):
    assert_envelope(client_for(user).put("/api/v1/users/me", {}, format="json"), 405)


def test_malformed_json_is_400_with_envelope(user, client_for):
    response = client_for(user).patch(
        "/api/v1/users/me", b'{"full_name": "x",', content_type="application/json"
    )
    assert "JSON" in assert_envelope(response, 400)


def test_oversized_body_is_413(api):
    body = '{"email": "' + "a" * (3 * 1024 * 1024) + '"}'
    response = api.post("/api/v1/users/signup", body, content_type="application/json")
    assert_envelope(response, 413)


def test_database_down_is_503_not_500(user, client_for):
    client = client_for(user)
    with connection.execute_wrapper(refuse_queries):
        response = client.get("/api/v1/users/me")
    assert "database" in assert_envelope(response, 503)


def test_pagination_count_is_the_total_not_the_page(superuser, make_user, client_for):
    for _ in range(4):
        make_user()
    client = client_for(superuser)
    page = client.get(USERS, {"limit": 2}).json()
    assert (len(page["data"]), page["count"]) == (2, 5)
    beyond = client.get(USERS, {"skip": 50}).json()
    assert beyond == {"data": [], "count": 5}


def test_pagination_limit_at_the_cap_is_accepted(superuser, client_for, settings):
    settings.API_MAX_PAGE_SIZE = 10
    client = client_for(superuser)
    assert client.get(USERS, {"limit": 10}).status_code == 200
    detail = assert_envelope(client.get(USERS, {"limit": 11}), 422)
    assert detail[0]["loc"] == ["query", "limit"]


def test_unexpected_errors_hide_their_details():
    response = exception_handler(RuntimeError("secret internals"), {})
    assert response.status_code == 500
    assert response.data == {"detail": "Internal server error."}
    response = exception_handler(DatabaseError("relation secret does not exist"), {})
    assert response.data == {"detail": "Internal server error."}


def test_throttled_carries_retry_after():
    response = exception_handler(exceptions.Throttled(wait=12.3), {})
    assert response.status_code == 429
    assert response["Retry-After"] == "13"  # rounded up: retrying earlier would fail


def test_nested_validation_errors_are_flattened_with_locations():
    detail = {"items": [{"name": ["required"]}], "non_field_errors": ["bad"]}
    items = validation_items(detail, "body")
    assert {tuple(i["loc"]) for i in items} == {("body", "items", 0, "name"), ("body",)}
