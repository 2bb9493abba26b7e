"""The vector records admin: read-only, searchable by content, filterable by model."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from launch.vector_store.models import VectorRecord
from launch.vector_store.services import upsert
from tests.vector_store.conftest import MakeRecord

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:vector_store_vectorrecord_changelist")


@pytest.fixture
def staff_client(client, superuser):
    client.force_login(superuser)
    return client


def test_changelist_searches_content_with_full_text(staff_client, make_record: MakeRecord):
    scope = uuid.uuid4()
    upsert(
        [
            make_record(scope_id=scope, content="Kubernetes deployment guide", seed=1),
            make_record(scope_id=scope, content="Baking sourdough bread", seed=2),
        ]
    )

    response = staff_client.get(CHANGELIST, {"q": "deployments"})

    assert response.status_code == 200
    assert "Kubernetes deployment guide" in response.content.decode()
    assert "sourdough" not in response.content.decode()


def test_changelist_filters_by_embedding_model(staff_client, make_record: MakeRecord):
    scope = uuid.uuid4()
    upsert(
        [
            make_record(scope_id=scope, content="from the old model", model="old", seed=1),
            make_record(scope_id=scope, content="from the new model", model="new", seed=2),
        ]
    )

    response = staff_client.get(CHANGELIST, {"embedding_model": "new"})

    assert response.status_code == 200
    assert "from the new model" in response.content.decode()
    assert "from the old model" not in response.content.decode()


def test_records_are_read_only_in_the_admin(staff_client, make_record: MakeRecord):
    upsert([make_record(scope_id=uuid.uuid4(), content="look, do not touch")])
    record = VectorRecord.objects.get()
    change_url = reverse("admin:vector_store_vectorrecord_change", args=[record.pk])
    delete_url = reverse("admin:vector_store_vectorrecord_delete", args=[record.pk])

    assert staff_client.get(reverse("admin:vector_store_vectorrecord_add")).status_code == 403
    view = staff_client.get(change_url)
    assert view.status_code == 200
    assert "look, do not touch" in view.content.decode()
    assert staff_client.post(change_url, {"content": "changed"}).status_code == 403
    assert staff_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert VectorRecord.objects.get().content == "look, do not touch"
