"""Every upstream operation exists in Launch's OpenAPI schema with the same operation id,
method, success status and (at least) the same response fields, so a front end
generated from the upstream contract works against Launch unchanged.

The upstream facts are a compact copy in `upstream_operations.json`; the test never
reads anything outside the repository.
"""

from __future__ import annotations

import json
import re
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


def _shape(path: str) -> str:
    # Parameter names are not part of a route: upstream itself declares
    # /chat/conversations/{project_id} and /chat/conversations/{conversation_id}.
    return re.sub(r"\{[^}]+\}", "{}", path.rstrip("/"))


def _launch_path(schema: dict[str, Any], path: str, method: str) -> str | None:
    wanted = _shape(PREFIX + path)
    for candidate, operations in schema["paths"].items():
        if _shape(candidate) == wanted and method in operations:
            return candidate
    return None


@pytest.mark.parametrize("op", OPERATIONS, ids=[o["operation_id"] for o in OPERATIONS])
def test_upstream_operation_exists_with_its_shape(schema, op):
    path = _launch_path(schema, op["path"], op["method"])
    assert path, f"{op['method'].upper()} {op['path']} is missing"
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
    if op.get("body") == "array":  # upstream's bare-array lists (chat conversations)
        assert body.get("type") == "array", f"{op['operation_id']} is not a bare array"
        body = _resolve(schema, body["items"])
    missing = set(op["fields"]) - set(body.get("properties", {}))
    assert not missing, f"{op['operation_id']} lacks {sorted(missing)}"


def test_facts_cover_every_upstream_tag():
    prefixes = {o["operation_id"].split("-")[0] for o in OPERATIONS}
    assert prefixes == {"chat", "documents", "items", "login", "projects", "users", "utils"}
    assert len(OPERATIONS) == 44
