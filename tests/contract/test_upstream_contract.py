"""Every upstream login/users/utils operation exists in Launch's OpenAPI schema with the
same method, success status and (at least) the same response fields.

The upstream facts are a compact copy in `upstream_operations.json`; the test never
reads anything outside the repository.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

FACTS = json.loads((Path(__file__).parent / "upstream_operations.json").read_text())
OPERATIONS = FACTS["operations"]
PREFIX = "/api/v1"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _launch_path(schema: dict[str, Any], path: str) -> str | None:
    bare = PREFIX + path.rstrip("/")
    for candidate in (bare, bare + "/"):
        if candidate in schema["paths"]:
            return candidate
    return None


@pytest.mark.parametrize("op", OPERATIONS, ids=[o["operation_id"] for o in OPERATIONS])
def test_upstream_operation_exists_with_its_shape(schema, op):
    path = _launch_path(schema, op["path"])
    assert path, f"{op['path']} is missing"
    operation = schema["paths"][path].get(op["method"])
    assert operation, f"{op['method'].upper()} {path} is missing"
    assert operation["operationId"] == op["operation_id"]
    response = operation["responses"].get(str(op["status"]))
    assert response, f"{op['operation_id']}: no {op['status']} response"
    if op["content_type"] is None:
        return
    content = response["content"]
    assert op["content_type"] in content
    body = _resolve(schema, content[op["content_type"]]["schema"])
    missing = set(op["fields"]) - set(body.get("properties", {}))
    assert not missing, f"{op['operation_id']} lacks {sorted(missing)}"


def test_facts_cover_the_three_tags():
    prefixes = {o["operation_id"].split("-")[0] for o in OPERATIONS}
    assert prefixes == {"login", "users", "utils"}
    assert len(OPERATIONS) == 18
