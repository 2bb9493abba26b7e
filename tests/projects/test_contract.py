"""Every upstream projects/documents operation exists in Launch's schema with the same
path, method, operation id, success status and (at least) the upstream response fields."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

DOCUMENT = [
    "filename",
    "file_type",
    "id",
    "project_id",
    "file_size",
    "status",
    "total_chunks",
    "processed_chunks",
    "estimated_tokens",
    "uploaded_at",
    "document_type",
    "error_message",
    "task_id",
    "processing_started_at",
    "processing_completed_at",
]
PROJECT = [
    "name",
    "id",
    "user_id",
    "created_at",
    "updated_at",
    "description",
    "system_prompt",
    "max_context_tokens",
]
CAPACITY = [
    "documents_tokens",
    "conversations_tokens",
    "total_tokens",
    "max_tokens",
    "usage_percentage",
    "remaining_tokens",
    "is_near_limit",
    "is_over_limit",
]
PAGE = ["data", "count"]
MESSAGE = ["message"]

# (method, path, operation id, success status, response fields)
OPERATIONS = [
    ("get", "/projects", "projects-get_projects", 200, PAGE),
    ("post", "/projects", "projects-create_project", 201, PROJECT),
    ("get", "/projects/{project_id}", "projects-get_project", 200, [*PROJECT, "documents",
                                                                    "capacity"]),
    ("patch", "/projects/{project_id}", "projects-update_project", 200, PROJECT),
    ("delete", "/projects/{project_id}", "projects-delete_project", 200, MESSAGE),
    ("get", "/projects/{project_id}/capacity", "projects-get_project_capacity", 200, CAPACITY),
    ("get", "/projects/{project_id}/documents", "projects-get_project_documents", 200, PAGE),
    ("post", "/projects/{project_id}/documents", "projects-upload_document", 201, DOCUMENT),
    ("get", "/documents/{document_id}", "documents-get_document", 200, DOCUMENT),
    ("patch", "/documents/{document_id}", "documents-update_document", 200, DOCUMENT),
    ("delete", "/documents/{document_id}", "documents-delete_document", 200, MESSAGE),
    ("get", "/documents/{document_id}/progress", "documents-get_document_progress", 200,
     ["document_id", "status", "total_chunks", "processed_chunks", "progress_percentage",
      "error_message"]),
    ("post", "/documents/{document_id}/retry", "documents-retry_document_processing", 200,
     DOCUMENT),
]  # fmt: skip


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _path(schema: dict[str, Any], path: str) -> dict[str, Any]:
    """The schema's entry for an upstream path (routes answer with or without a slash)."""
    paths = schema["paths"]
    return paths.get("/api/v1" + path) or paths["/api/v1" + path + "/"]


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


@pytest.mark.parametrize("op", OPERATIONS, ids=[op[2] for op in OPERATIONS])
def test_upstream_operation_exists_with_its_shape(schema, op):
    method, path, operation_id, status, fields = op
    operation = _path(schema, path)[method]
    assert operation["operationId"] == operation_id
    response = operation["responses"][str(status)]
    body = _resolve(schema, response["content"]["application/json"]["schema"])
    missing = set(fields) - set(body.get("properties", {}))
    assert not missing, f"{operation_id} lacks {sorted(missing)}"


def test_upload_takes_multipart_file_and_document_type(schema):
    operation = _path(schema, "/projects/{project_id}/documents")["post"]
    body = _resolve(schema, operation["requestBody"]["content"]["multipart/form-data"]["schema"])
    assert {"file", "document_type"} <= set(body["properties"])
    assert body["required"] == ["file"]
