"""The admin: projects with their documents inline, documents with a reprocess action."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.test import Client

from apps.projects.models import Document, Project
from launch.permissions import share_with_user
from launch.vector_store.models import VectorRecord
from tests.projects.conftest import create_project, ingest, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


def test_project_change_page_lists_its_documents(staff_client, member):
    project = create_project(owner=member)
    ingest(project=project, name="manual.txt")
    page = staff_client.get(f"/admin/projects/project/{project.pk}/change/")
    assert page.status_code == 200
    assert b"manual.txt" in page.content


@pytest.mark.parametrize("how", ["page", "bulk action"])
def test_deleting_projects_in_the_admin_goes_through_the_service(staff_client, member, how):
    project = create_project(owner=member)
    ingest(project=project, name="manual.txt")
    assert VectorRecord.objects.filter(scope_id=project.pk).exists()
    if how == "page":
        url = f"/admin/projects/project/{project.pk}/delete/"
        response = staff_client.post(url, {"post": "yes"})
    else:
        response = staff_client.post(
            "/admin/projects/project/",
            {"action": "delete_selected", "_selected_action": [str(project.pk)], "post": "yes"},
        )
    assert response.status_code == 302
    assert not Project.objects.filter(pk=project.pk).exists()
    # The service deletes each document's vectors; a plain ORM delete would leave them.
    assert not VectorRecord.objects.filter(scope_id=project.pk).exists()


def test_document_list_filters_by_status(staff_client, member):
    project = create_project(owner=member)
    ingest(project=project, name="done.txt")
    upload(project=project, name="waiting.txt")
    page = staff_client.get("/admin/projects/document/", {"status__exact": "pending"})
    assert b"waiting.txt" in page.content
    assert b"done.txt" not in page.content


def test_reprocess_action_requeues_through_the_service(
    staff_client, member, django_capture_on_commit_callbacks
):
    project = create_project(owner=member)
    document = upload(project=project)
    Document.objects.filter(pk=document.pk).update(status="failed", error_message="x", attempts=3)
    with django_capture_on_commit_callbacks() as callbacks:
        staff_client.post(
            "/admin/projects/document/",
            {"action": "reprocess", "_selected_action": [str(document.pk)]},
        )
    document.refresh_from_db()
    assert (document.status, document.attempts, document.error_message) == ("pending", 0, None)
    assert len(callbacks) == 1


@pytest.mark.promise(2)
def test_staff_see_only_documents_of_projects_they_may_view(make_member, member, rf):
    staff = make_member(role="admin", is_staff=True)
    hidden = upload(project=create_project(owner=member))
    shared_project = create_project(owner=member)
    shown = upload(project=shared_project)
    share_with_user(shared_project, staff, ["view"])
    request = rf.get("/admin/projects/document/")
    request.user = staff
    queryset = site._registry[Document].get_queryset(request)
    assert set(queryset) == {shown}
    assert hidden not in queryset


def test_staff_may_delete_a_document_only_with_change_on_its_project(make_member, member, rf):
    staff = make_member(role="admin", is_staff=True)
    project = create_project(owner=member)
    document = upload(project=project)
    request = rf.get("/admin/projects/document/")
    request.user = staff
    document_admin = site._registry[Document]
    share_with_user(project, staff, ["view"])
    assert not document_admin.has_delete_permission(request, document)
    share_with_user(project, staff, ["change"])
    assert document_admin.has_delete_permission(request, document)
