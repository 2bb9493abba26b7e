"""The vector records admin: read-only, searchable by content, filterable by model and
source type (only those that have records)."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from launch.vector_store.models import VectorRecord
from launch.vector_store.services import upsert
from launch.vector_store.services.versions import version_named
from tests.vector_store.conftest import MakeRecord, unit_vector

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


def filter_choices(response, title: str) -> list[str]:
    (spec,) = [spec for spec in response.context["cl"].filter_specs if spec.title == title]
    return [choice["display"] for choice in spec.choices(response.context["cl"])][1:]  # not "All"


def test_filters_list_only_models_and_source_types_that_have_records(
    staff_client, make_record: MakeRecord
):
    scope = uuid.uuid4()
    upsert(
        [
            make_record(scope_id=scope, content="one", model="model-a", seed=1),
            make_record(scope_id=scope, content="two", model="model-b", seed=2),
        ]
    )
    # Registered, but nothing stored with it.
    version_named("model-unused", dimensions=len(unit_vector(1)))

    response = staff_client.get(CHANGELIST)

    assert response.status_code == 200
    assert filter_choices(response, "embedding model") == ["model-a", "model-b"]
    record = VectorRecord.objects.select_related("source_type").first()
    assert record is not None
    source = record.source_type
    assert filter_choices(response, "source type") == [str(source)]
    assert ContentType.objects.count() > 1  # Django's own filter listed all of these

    filtered = staff_client.get(CHANGELIST, {"source_type": str(source.pk)})
    assert filtered.status_code == 200
    assert "one" in filtered.content.decode()
    # A mangled parameter is the admin's "invalid lookup" redirect, not a 500.
    assert staff_client.get(CHANGELIST, {"source_type": "nonsense"}).status_code == 302
