"""Hostile input, on every route that parses a body: deep JSON is a 400; NUL or an
unpaired surrogate in any field is a 422 naming the field; never a 500.

The routes come from Launch's own OpenAPI schema (every operation with a request body,
in each content type it declares), so a route added later is covered without editing
this file. Requests are sent as a superuser at rows that exist, so each one reaches the
parser instead of stopping at a 403 or 404. The same goes for NUL in query strings and
paths, which every route reads.
"""

from __future__ import annotations

import io
import json
import uuid
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from apps.chat import services as chat
from apps.rbac.services import roles_ensure_defaults
from tests.conftest import bearer
from tests.factories import create_item, create_tag
from tests.projects.conftest import create_project, upload
from tests.support.reliability import record

pytestmark = [pytest.mark.promise(4), pytest.mark.django_db]

SURROGATE = "caf\ud800"
NUL = "ab\x00cd"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


SCHEMA: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)


def operations(*, with_body: bool) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, methods in SCHEMA["paths"].items():
        for method, operation in methods.items():
            if ("requestBody" in operation) == with_body:
                found.append((method, path, operation))
    return found


def body_fields(operation: dict[str, Any], content_type: str) -> list[str]:
    ref = operation["requestBody"]["content"][content_type]["schema"]
    if "$ref" in ref:
        ref = SCHEMA["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
    return sorted(ref.get("properties", {})) or ["anything"]


def label(item: tuple[str, str, dict[str, Any]]) -> str:
    method, path, _ = item
    return f"{method.upper()} {path}"


BODY_OPERATIONS = operations(with_body=True)
QUERY_OPERATIONS = [
    item
    for item in operations(with_body=False) + BODY_OPERATIONS
    if any(p["in"] == "query" for p in item[2].get("parameters", []))
]


@pytest.fixture
def caller(superuser) -> tuple[APIClient, dict[str, str]]:
    """A superuser's client, and ids of existing rows for every path parameter."""
    roles_ensure_defaults()
    project = create_project(owner=superuser)
    document = upload(project=project)
    conversation = chat.conversation_create(user=superuser, title="T", project_id=project.pk)
    other = type(superuser).objects.create_user(email=f"{uuid.uuid4().hex}@example.com")
    ids = {
        "/api/v1/items/": str(create_item(owner=superuser).pk),
        "/api/v1/tags/": str(create_tag(created_by=superuser).pk),
        "/api/v1/roles/": str(Group.objects.get(name="viewer").pk),
        "/api/v1/projects/": str(project.pk),
        "/api/v1/documents/": str(document.pk),
        "/api/v1/chat/conversations/": str(conversation.pk),
        "/api/v1/users/": str(other.pk),
        "/api/v1/password-recovery": other.email,
    }
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer(superuser))
    return client, ids


def url(path: str, ids: dict[str, str]) -> str:
    value = next((v for prefix, v in ids.items() if path.startswith(prefix)), str(uuid.uuid4()))
    parts = path.split("/")
    return "/".join(value if p.startswith("{") else p for p in parts)


def assert_text_refused(response: Any, fields: list[str], location: str = "body") -> None:
    assert response.status_code == 422, response.content[:500]
    items = response.json()["detail"]
    assert {item["type"] for item in items} <= {"null_characters_not_allowed", "invalid_unicode"}
    assert {item["loc"][0] for item in items} == {location}
    assert {item["loc"][1] for item in items} >= set(fields[:20])


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=[label(o) for o in BODY_OPERATIONS])
def test_every_body_refuses_deep_json_and_bad_text(caller, operation):
    client, ids = caller
    method, path, spec = operation
    target = url(path, ids)
    content_types = spec["requestBody"]["content"]
    sent = 0
    if "application/json" in content_types:
        fields = body_fields(spec, "application/json")
        for levels in (settings.API_JSON_MAX_DEPTH + 1, 1_000, 100_000):
            raw = "{" + ",".join(f'"{f}": {deep(levels - 1)}' for f in fields) + "}"
            response = client.generic(method, target, raw, content_type="application/json")
            assert response.status_code == 400, (levels, response.content[:300])
            assert "nested deeper" in response.json()["detail"]
            sent += 1
        for bad in (SURROGATE, NUL):
            raw = json.dumps(dict.fromkeys(fields, bad))  # "\ud800", "\u0000" escapes
            response = client.generic(method, target, raw, content_type="application/json")
            assert_text_refused(response, fields)
            sent += 1
    for content_type in FORM_TYPES:
        if content_type not in content_types:
            continue
        fields = [f for f in body_fields(spec, content_type) if f != "file"]
        if content_type == "multipart/form-data":
            data: dict[str, Any] = dict.fromkeys(fields, NUL)
            if "file" in body_fields(spec, content_type):
                data["file"] = io.BytesIO(b"plain text")
            response = client.generic(method, target, **_multipart(data))
        else:
            response = client.generic(
                method, target, urlencode(dict.fromkeys(fields, NUL)), content_type=content_type
            )
        assert_text_refused(response, fields)
        sent += 1
    record("abuse requests sent", sent)


def _multipart(data: dict[str, Any]) -> dict[str, Any]:
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    for value in data.values():
        if isinstance(value, io.BytesIO):
            value.name = "notes.txt"
    return {"data": encode_multipart(BOUNDARY, data), "content_type": MULTIPART_CONTENT}


@pytest.mark.parametrize("operation", QUERY_OPERATIONS, ids=[label(o) for o in QUERY_OPERATIONS])
def test_every_query_parameter_refuses_nul(caller, operation):
    client, ids = caller
    method, path, spec = operation
    names = [p["name"] for p in spec["parameters"] if p["in"] == "query"]
    query = urlencode(dict.fromkeys(names, NUL))
    response = client.generic(method, f"{url(path, ids)}?{query}")
    record("abuse requests sent", 1)
    assert_text_refused(response, names, location="query")


def test_nul_in_a_path_is_refused(caller):
    client, _ = caller
    response = client.post("/api/v1/password-recovery/a%00b@example.com")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["path"]
    admin = client.get("/admin/users/user/?q=%00")
    assert admin.status_code == 400


def test_json_at_the_depth_limit_is_parsed(api):
    levels = settings.API_JSON_MAX_DEPTH
    raw = '{"username": ' + deep(levels - 1) + ', "password": "x"}'
    response = api.post("/api/v1/login/access-token", raw, content_type="application/json")
    assert response.status_code == 422  # parsed, then refused by the serializer
    assert response.json()["detail"][0]["loc"] == ["body", "username"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("username", "ada\ud800@example.com"), ("username", "ada\x00@example.com")],
)
def test_the_anonymous_login_names_the_bad_field(api, field, value):
    raw = json.dumps({"username": "ada@example.com", "password": "x" * 12, field: value})
    response = api.post("/api/v1/login/access-token", raw, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]


def test_a_bad_key_is_reported_printable(api):
    raw = json.dumps({"user\ud800name": "x"})
    response = api.post("/api/v1/login/access-token", raw, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "user\\ud800name"]
