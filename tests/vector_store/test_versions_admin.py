"""Embedding versions in the admin: watch, start, resume, cancel and drop model changes;
and the Celery tasks behind them, run eagerly."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from launch.vector_store.models import EmbeddingVersion, ScopeVersion, VectorRecord
from launch.vector_store.services.rollout import rollout_start
from launch.vector_store.services.versions import active_version
from tests.vector_store.test_rollout import store, to_dimensions

pytestmark = pytest.mark.django_db
CHANGELIST = reverse("admin:vector_store_embeddingversion_changelist")
ADD = reverse("admin:vector_store_embeddingversion_add")


@pytest.fixture
def staff_client(client, superuser):
    client.force_login(superuser)
    return client


def test_adding_a_version_builds_it_on_the_workers_and_switches(
    staff_client, celery_inline, django_capture_on_commit_callbacks
):
    scope = uuid.uuid4()
    store(scope, "otters")
    old = active_version()

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            ADD, {"provider": "hashing", "model": "", "dimensions": 72, "base_url": ""}
        )

    assert response.status_code == 302
    new = EmbeddingVersion.objects.get(name="hashing-v1-72")
    assert new.state == "active"  # the eager tasks built, switched and finished it
    old.refresh_from_db()
    assert old.state == "retired"
    assert not VectorRecord.objects.filter(version=old).exists()  # dropped by the task
    page = staff_client.get(CHANGELIST).content.decode()
    assert "hashing-v1-72" in page
    assert "retired" in page


def test_a_model_that_cannot_be_built_is_an_error_message(staff_client):
    store(uuid.uuid4(), "otters")
    response = staff_client.post(
        ADD, {"provider": "onnx", "model": "/nowhere", "dimensions": 0, "base_url": ""}, follow=True
    )
    assert "Could not start building that model" in response.content.decode()
    assert not EmbeddingVersion.objects.filter(provider="onnx").exists()


def test_progress_resume_cancel_and_drop_actions(
    staff_client, django_capture_on_commit_callbacks, celery_inline
):
    first, second = uuid.uuid4(), uuid.uuid4()
    store(first, "otters")
    store(second, "kelp")
    new = rollout_start(config=to_dimensions(24), enqueue=False)
    assert "0/2 scopes switched" in staff_client.get(CHANGELIST).content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(CHANGELIST, {"action": "resume", "_selected_action": [new.pk]})
    new.refresh_from_db()
    assert new.state == "active"

    newer = rollout_start(config=to_dimensions(16), enqueue=False)
    ScopeVersion.objects.create(scope_id=first, version=newer)
    staff_client.post(CHANGELIST, {"action": "cancel", "_selected_action": [newer.pk]})
    newer.refresh_from_db()
    assert newer.state == "retired"
    assert not ScopeVersion.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(CHANGELIST, {"action": "drop_rows", "_selected_action": [newer.pk]})
    assert not VectorRecord.objects.filter(version=newer).exists()
    detail = staff_client.get(reverse("admin:vector_store_embeddingversion_change", args=[new.pk]))
    assert detail.status_code == 200
