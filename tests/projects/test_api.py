"""Projects and documents over the API: the permission matrix of every route, and shapes."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.projects.models import Document, Project
from tests.factories import share_in_team
from tests.projects.conftest import create_project, ingest, upload

pytestmark = pytest.mark.django_db

PROJECTS = "/api/v1/projects"


def p_url(project, suffix=""):
    return f"/api/v1/projects/{project.pk}{suffix}"


def d_url(document, suffix=""):
    return f"/api/v1/documents/{document.pk}{suffix}"


@pytest.fixture
def document(project):
    return upload(project=project)


def file_payload(name="a.txt", data=b"plain words for a test"):
    return {"file": ContentFile(data, name=name), "document_type": "notes"}


# Every route: (method, url builder, body). Builders take (project, document).
ROUTES = [
    ("get", lambda p, d: PROJECTS, None),
    ("post", lambda p, d: PROJECTS, {"name": "x"}),
    ("get", lambda p, d: p_url(p), None),
    ("patch", lambda p, d: p_url(p), {"name": "x"}),
    ("delete", lambda p, d: p_url(p), None),
    ("get", lambda p, d: p_url(p, "/capacity"), None),
    ("get", lambda p, d: p_url(p, "/documents"), None),
    ("post", lambda p, d: p_url(p, "/documents"), "file"),
    ("get", lambda p, d: p_url(p, "/shares"), None),
    ("put", lambda p, d: p_url(p, "/shares"), {"role_id": 1, "permissions": []}),
    ("get", lambda p, d: d_url(d), None),
    ("patch", lambda p, d: d_url(d), {"document_type": "x"}),
    ("delete", lambda p, d: d_url(d), None),
    ("get", lambda p, d: d_url(d, "/progress"), None),
    ("post", lambda p, d: d_url(d, "/retry"), None),
    ("post", lambda p, d: "/api/v1/search", {"query": "tide"}),
]
ROUTE_IDS = [f"{m} {i}" for i, (m, _, _) in enumerate(ROUTES)]


def call(client, method, url, body):
    if body == "file":
        return client.post(url, file_payload(), format="multipart")
    return (
        getattr(client, method)(url, body, format="json") if body else getattr(client, method)(url)
    )


def send(client, route, document):
    method, build, body = route
    return call(client, method, build(document.project, document), body)


@pytest.mark.promise(2)
@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_anonymous_gets_401_on_every_route(api, document, route):
    assert send(api, route, document).status_code == 401


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_user_without_a_role_gets_403_on_every_route(client_for, roleless, document, route):
    share_in_team(document.project, roleless, ["view", "change", "delete", "share"])
    assert send(client_for(roleless), route, document).status_code == 403


OBJECT_ROUTES = ROUTES[2:-1]  # every route on one project or document


@pytest.mark.promise(2)
@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=ROUTE_IDS[2:-1])
def test_stranger_gets_404_on_another_users_project_and_documents(
    client_for, stranger, document, route
):
    assert send(client_for(stranger), route, document).status_code == 404
    assert Project.objects.filter(pk=document.project_id).exists()
    assert Document.objects.filter(pk=document.pk).exists()


@pytest.mark.promise(2)
def test_stranger_lists_only_their_own_projects(client_for, stranger, project):
    mine = create_project(owner=stranger)
    body = client_for(stranger).get(PROJECTS).json()
    assert body["count"] == 1
    assert [row["id"] for row in body["data"]] == [str(mine.pk)]


@pytest.mark.promise(2)
def test_stranger_search_in_a_project_they_cannot_view_is_404(client_for, stranger, project):
    response = client_for(stranger).post(
        "/api/v1/search", {"query": "tide", "project_ids": [str(project.pk)]}, format="json"
    )
    assert response.status_code == 404


def test_shared_view_user_reads_everything_but_writes_nothing(client_for, stranger, project):
    document = ingest(project=project)
    share_in_team(project, stranger, ["view"])
    client = client_for(stranger)
    for url in (p_url(project), p_url(project, "/capacity"), p_url(project, "/documents")):
        assert client.get(url).status_code == 200, url
    assert client.get(d_url(document)).status_code == 200
    assert client.get(d_url(document, "/progress")).status_code == 200
    assert client.get(PROJECTS).json()["count"] == 1

    assert client.patch(p_url(project), {"name": "x"}, format="json").status_code == 403
    assert client.delete(p_url(project)).status_code == 403
    assert (
        client.post(p_url(project, "/documents"), file_payload(), format="multipart").status_code
        == 403
    )
    assert client.patch(d_url(document), {"document_type": "x"}, format="json").status_code == 403
    assert client.delete(d_url(document)).status_code == 403
    assert client.post(d_url(document, "/retry")).status_code == 403
    assert client.get(p_url(project, "/shares")).status_code == 403
    assert Document.objects.filter(pk=document.pk, document_type="other").exists()


def test_shared_change_user_uploads_edits_retries_and_deletes_documents(
    client_for, stranger, project
):
    share_in_team(project, stranger, ["change"])
    client = client_for(stranger)
    response = client.post(p_url(project, "/documents"), file_payload(), format="multipart")
    assert response.status_code == 201
    document = Document.objects.get(pk=response.json()["id"])
    assert document.uploaded_by == stranger
    patched = client.patch(d_url(document), {"document_type": "manual"}, format="json")
    assert patched.json()["document_type"] == "manual"
    Document.objects.filter(pk=document.pk).update(status="failed", error_message="boom")
    assert client.post(d_url(document, "/retry")).json()["status"] == "pending"
    assert client.delete(d_url(document)).json() == {"message": "Document deleted successfully"}
    assert client.delete(p_url(project)).status_code == 403  # deleting the project is not theirs


def test_viewer_role_reads_but_cannot_upload_even_with_a_change_grant(
    client_for, make_member, project
):
    viewer = make_member(role="viewer")
    share_in_team(project, viewer, ["change"])
    client = client_for(viewer)
    assert client.get(p_url(project, "/documents")).status_code == 200
    response = client.post(p_url(project, "/documents"), file_payload(), format="multipart")
    assert response.status_code == 403


def test_superuser_passes_every_route(client_for, superuser, project):
    document = ingest(project=project)
    client = client_for(superuser, team=project.team_id)  # any team, named
    assert client.get(PROJECTS).json()["count"] == Project.objects.filter(team=project.team).count()
    assert client.get(p_url(project)).status_code == 200
    assert client.get(p_url(project, "/capacity")).status_code == 200
    assert client.get(d_url(document)).status_code == 200
    assert client.patch(d_url(document), {"document_type": "x"}, format="json").status_code == 200
    assert (
        client.post(p_url(project, "/documents"), file_payload(), format="multipart").status_code
        == 201
    )
    search = client.post("/api/v1/search", {"query": "lighthouse tide"}, format="json")
    assert search.json()["count"] >= 1
    assert client.delete(d_url(document)).status_code == 200
    assert client.delete(p_url(project)).status_code == 200


# --- contract shapes -------------------------------------------------------------------


def test_create_project_returns_201_with_the_contract_fields(client_for, member):
    response = client_for(member).post(
        PROJECTS,
        {"name": "Handbook", "description": None, "system_prompt": "Be brief."},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user_id"] == str(member.pk)
    assert body["max_context_tokens"] == 100_000
    assert {"id", "name", "description", "system_prompt", "created_at", "updated_at"} <= set(body)
    # upstream's ProjectPublic: documents and capacity come back on create and update too
    assert body["documents"] == []
    assert body["capacity"]["max_tokens"] == 100_000
    updated = (
        client_for(member)
        .patch(f"{PROJECTS}/{body['id']}", {"name": "Renamed"}, format="json")
        .json()
    )
    assert updated["name"] == "Renamed"
    assert updated["documents"] == []
    assert updated["capacity"]["total_tokens"] == 0


@pytest.mark.parametrize("tokens", [999, 200_001])
def test_max_context_tokens_outside_the_range_is_422(client_for, member, tokens):
    response = client_for(member).post(
        PROJECTS, {"name": "x", "max_context_tokens": tokens}, format="json"
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "max_context_tokens"]


def test_patch_changes_only_the_given_fields_and_put_is_not_offered(client_for, project):
    client = client_for(project.owner)
    body = client.patch(
        p_url(project), {"max_context_tokens": 5000, "name": None}, format="json"
    ).json()
    assert (body["max_context_tokens"], body["name"]) == (5000, project.name)
    assert client.put(p_url(project), {"name": "y"}, format="json").status_code == 405


def test_project_detail_carries_documents_and_capacity(client_for, project):
    document = ingest(project=project)
    body = client_for(project.owner).get(p_url(project) + "/").json()
    assert [d["id"] for d in body["documents"]] == [str(document.pk)]
    assert body["capacity"]["documents_tokens"] == document.estimated_tokens > 0


def test_capacity_counts_completed_documents_and_flags_near_limit(client_for, make_project, member):
    project = make_project(owner=member, max_context_tokens=1000)
    done = ingest(project=project, data=("word " * 700).encode())
    upload(project=project)  # pending: counts nothing yet
    body = client_for(member).get(p_url(project, "/capacity")).json()
    assert body["documents_tokens"] == done.estimated_tokens
    assert body["conversations_tokens"] == 0
    assert body["total_tokens"] == done.estimated_tokens
    assert body["remaining_tokens"] == max(0, 1000 - done.estimated_tokens)
    assert body["is_near_limit"] is (done.estimated_tokens >= 800)
    assert body["usage_percentage"] == pytest.approx(100 * done.estimated_tokens / 1000, abs=0.01)


def test_document_list_is_paginated_with_the_total_count(client_for, project):
    for index in range(3):
        upload(project=project, name=f"n{index}.txt")
    page = client_for(project.owner).get(p_url(project, "/documents"), {"limit": 2}).json()
    assert (len(page["data"]), page["count"]) == (2, 3)


def test_document_and_progress_shapes(client_for, project):
    document = ingest(project=project)
    client = client_for(project.owner)
    body = client.get(d_url(document)).json()
    assert body["status"] == "completed"
    assert body["project_id"] == str(project.pk)
    assert len(body["sha256"]) == 64
    assert body["total_chunks"] == body["processed_chunks"] >= 1
    progress = client.get(d_url(document, "/progress")).json()
    assert progress == {
        "document_id": str(document.pk),
        "status": "completed",
        "total_chunks": document.total_chunks,
        "processed_chunks": document.total_chunks,
        "progress_percentage": 100.0,
        "error_message": None,
    }


@pytest.mark.parametrize("status", ["pending", "processing", "completed"])
def test_retry_is_400_unless_the_document_failed(client_for, document, status):
    Document.objects.filter(pk=document.pk).update(status=status)
    response = client_for(document.project.owner).post(d_url(document, "/retry"))
    assert response.status_code == 400
    assert "failed" in response.json()["detail"]


def test_retry_of_a_failed_document_queues_it_on_commit(
    client_for, document, django_capture_on_commit_callbacks
):
    Document.objects.filter(pk=document.pk).update(status="failed", error_message="x", attempts=3)
    with django_capture_on_commit_callbacks() as callbacks:
        body = client_for(document.project.owner).post(d_url(document, "/retry")).json()
    assert (body["status"], body["error_message"]) == ("pending", None)
    assert len(callbacks) == 1
    document.refresh_from_db()
    assert document.attempts == 0
    assert document.task_id == body["task_id"]


def test_search_validation(client_for, member):
    client = client_for(member)
    for body in (
        {"query": ""},
        {"query": "   "},
        {"query": "x" * 1001},
        {"query": "x", "k": 0},
        {"query": "x", "k": 51},
        {"query": "x", "mode": "fuzzy"},
    ):
        response = client.post("/api/v1/search", body, format="json")
        assert response.status_code == 422, body


def test_search_for_a_user_who_can_view_nothing_is_empty(client_for, member):
    response = client_for(member).post("/api/v1/search", {"query": "anything"}, format="json")
    assert response.json() == {"data": [], "count": 0}


def test_routes_answer_with_a_trailing_slash(client_for, project):
    client = client_for(project.owner)
    assert client.get(PROJECTS + "/").status_code == 200
    assert client.get(p_url(project, "/capacity/")).status_code == 200
    assert client.post("/api/v1/search/", {"query": "x"}, format="json").status_code == 200


def test_conversation_tokens_come_from_the_hook_source(project, monkeypatch):
    from apps.projects import selectors

    # Point the hook at a model this app owns, to exercise the lookup, sum and filter.
    monkeypatch.setattr(
        selectors,
        "CONVERSATION_TOKENS_SOURCE",
        {
            "app_label": "projects",
            "model": "Document",
            "project_lookup": "project",
            "field": "file_size",
        },
    )
    document = upload(project=project)
    assert selectors.project_conversation_tokens(project) == document.file_size


def test_conversation_tokens_are_zero_without_the_chat_model(project, monkeypatch):
    from apps.projects import selectors

    monkeypatch.setitem(selectors.CONVERSATION_TOKENS_SOURCE, "app_label", "not_installed")
    assert selectors.project_conversation_tokens(project) == 0


def test_project_list_items_carry_documents_and_capacity_in_constant_queries(client_for, member):
    """Upstream's ProjectPublic, in lists too; annotated and prefetched, so the number of
    queries does not grow with the number of projects."""
    client = client_for(member)

    def listed() -> tuple[dict, int]:
        with CaptureQueriesContext(connection) as queries:
            body = client.get(PROJECTS).json()
        return body, len(queries)

    first = ingest(project=create_project(owner=member), data=b"Tides follow the moon.")
    listed()  # the user's permission set is cached from here on (launch/rights_cache.py)
    _, queries_for_one = listed()
    for _ in range(3):
        create_project(owner=member)
    body, queries_for_four = listed()
    assert queries_for_four == queries_for_one
    assert body["count"] == 4
    by_id = {item["id"]: item for item in body["data"]}
    item = by_id[str(first.project_id)]
    assert [doc["id"] for doc in item["documents"]] == [str(first.pk)]
    assert item["capacity"]["documents_tokens"] == first.estimated_tokens > 0
