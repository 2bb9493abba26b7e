"""Permission-aware search: isolation between users in every mode, sharing and revoking,
and the labelled corpus on which hybrid recall@5 must match or beat each single mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.projects.services import document_search
from launch.permissions import share_with_role
from launch.vector_store.services import SEARCH_MODES
from tests.factories import join_team, share_in_team
from tests.projects.conftest import create_project, ingest

pytestmark = pytest.mark.django_db

SEARCH = "/api/v1/search"
CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "corpus"
SECRET = "The zeppelin hangar combination is 4417 and the vault opens at dawn."


def search_ids(client, query, **extra):
    response = client.post(SEARCH, {"query": query, **extra}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def secret_document(member):
    project = create_project(owner=member, name="Private")
    return ingest(project=project, data=SECRET.encode(), name="secret.txt")


@pytest.mark.promise(2)
@pytest.mark.parametrize("mode", SEARCH_MODES)
def test_a_stranger_with_no_projects_never_sees_another_users_chunk(
    client_for, stranger, secret_document, mode
):
    body = search_ids(client_for(stranger), "zeppelin hangar combination", mode=mode)
    assert body == {"data": [], "count": 0}


@pytest.mark.promise(2)
@pytest.mark.parametrize("mode", SEARCH_MODES)
def test_a_stranger_with_an_empty_project_never_sees_another_users_chunk(
    client_for, stranger, secret_document, mode
):
    own = create_project(owner=stranger)
    client = client_for(stranger)
    assert search_ids(client, "zeppelin hangar combination", mode=mode)["count"] == 0
    assert search_ids(client, "zeppelin", mode=mode, project_ids=[str(own.pk)])["count"] == 0


@pytest.mark.promise(2)
@pytest.mark.parametrize("mode", SEARCH_MODES)
def test_a_stranger_with_their_own_documents_sees_only_those(
    client_for, stranger, secret_document, mode
):
    own = ingest(
        project=create_project(owner=stranger),
        data=b"My zeppelin model kit has a hangar made of balsa wood.",
        name="kit.txt",
    )
    body = search_ids(client_for(stranger), "zeppelin hangar", mode=mode)
    assert {row["document_id"] for row in body["data"]} == {str(own.pk)}


@pytest.mark.parametrize("mode", SEARCH_MODES)
def test_the_owner_finds_their_chunk_with_its_fields(client_for, member, secret_document, mode):
    body = search_ids(client_for(member), "zeppelin hangar combination", mode=mode, k=3)
    hit = body["data"][0]
    assert hit["document_id"] == str(secret_document.pk)
    assert hit["project_id"] == str(secret_document.project_id)
    assert hit["filename"] == "secret.txt"
    assert "4417" in hit["content"]
    assert hit["page_number"] is None
    assert hit["score"] > 0
    assert set(hit) == {
        "chunk_id",
        "document_id",
        "project_id",
        "filename",
        "content",
        "page_number",
        "score",
    }


@pytest.mark.promise(2)
def test_a_shared_project_appears_after_sharing_and_disappears_after_revoking(
    client_for, stranger, secret_document
):
    client = client_for(stranger)
    project = secret_document.project
    assert search_ids(client, "zeppelin")["count"] == 0
    share_in_team(project, stranger, ["view"])
    assert [r["document_id"] for r in search_ids(client, "zeppelin")["data"]] == [
        str(secret_document.pk)
    ]
    share_in_team(project, stranger, [])
    assert search_ids(client, "zeppelin")["count"] == 0


@pytest.mark.promise(2)
def test_a_project_shared_with_a_role_is_searchable_by_its_members(
    client_for, make_member, roles, secret_document
):
    colleague = make_member(role="viewer")
    join_team(colleague, secret_document.project.team_id, default=True)
    share_with_role(secret_document.project, roles["viewer"], ["view"])
    assert search_ids(client_for(colleague), "zeppelin")["count"] == 1


@pytest.mark.promise(2)
def test_asking_for_a_project_you_cannot_view_is_404_even_with_one_you_can(
    client_for, stranger, secret_document
):
    own = create_project(owner=stranger)
    response = client_for(stranger).post(
        SEARCH,
        {"query": "zeppelin", "project_ids": [str(own.pk), str(secret_document.project_id)]},
        format="json",
    )
    assert response.status_code == 404


def test_project_ids_and_document_types_narrow_the_results(client_for, member):
    first, second = create_project(owner=member), create_project(owner=member)
    a = ingest(
        project=first, data=b"Glacier melt in the Alps.", name="a.txt", document_type="report"
    )
    b = ingest(project=second, data=b"Glacier tours for tourists.", name="b.txt")
    client = client_for(member)
    only_second = search_ids(client, "glacier", project_ids=[str(second.pk)])
    assert [r["document_id"] for r in only_second["data"]] == [str(b.pk)]
    reports = search_ids(client, "glacier", document_types=["report"])
    assert [r["document_id"] for r in reports["data"]] == [str(a.pk)]


def test_k_caps_the_number_of_results(client_for, member):
    project = create_project(owner=member)
    for index in range(4):
        ingest(project=project, data=f"Lantern number {index} glows.".encode(), name=f"{index}.txt")
    assert search_ids(client_for(member), "lantern glows", k=2)["count"] == 2


@pytest.mark.promise(2)
def test_a_deleted_document_is_no_longer_found(client_for, member, secret_document):
    client = client_for(member)
    assert client.delete(f"/api/v1/documents/{secret_document.pk}").status_code == 200
    assert search_ids(client, "zeppelin")["count"] == 0


# --- the labelled corpus --------------------------------------------------------------


def recall_at_5(user, questions, mode):
    found = 0
    for item in questions:
        hits = document_search(user=user, query=item["question"], k=5, mode=mode)
        found += item["expected"] in {hit.filename for hit in hits}
    return found / len(questions)


def test_hybrid_recall_at_5_is_at_least_each_single_modes_on_the_corpus(member, settings):
    settings.EMBEDDING_PROVIDER = "hashing"
    project = create_project(owner=member, name="Corpus")
    for path in sorted((CORPUS / "documents").iterdir()):
        document = ingest(project=project, data=path.read_bytes(), name=path.name)
        assert document.status == "completed", (path.name, document.error_message)
    questions = json.loads((CORPUS / "questions.json").read_text())["questions"]
    recall = {mode: recall_at_5(member, questions, mode) for mode in SEARCH_MODES}
    print("recall@5", recall)
    assert recall["hybrid"] >= recall["semantic"]
    assert recall["hybrid"] >= recall["keyword"]
    assert recall["hybrid"] >= 0.8
