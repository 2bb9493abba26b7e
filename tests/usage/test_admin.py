"""The ledger in the admin: listed and filtered, never added, changed or deleted."""

from __future__ import annotations

import pytest

from apps.usage.models import ModelCall
from apps.usage.services import model_call_record
from launch.ai.metering import CallRecord

pytestmark = pytest.mark.django_db


def call_year() -> str:
    return str(ModelCall.objects.values_list("created_at__year", flat=True).first())


CHANGELIST = "/admin/usage/modelcall/"


def test_the_admin_lists_and_filters_the_ledger_read_only(client, superuser, member):
    for model, purpose in (("alpha-model", "answer"), ("beta-model", "ingest")):
        attribution = {"user": member}
        model_call_record(
            CallRecord(purpose, "openai", model, 5, 2, False, 7, "ok", None, attribution)
        )
    client.force_login(superuser)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert "alpha-model" in page.content.decode()
    assert "beta-model" in page.content.decode()

    filtered = client.get(CHANGELIST, {"purpose": "ingest", "status": "ok", "provider": "openai"})
    assert filtered.status_code == 200
    assert [call.model for call in filtered.context["cl"].result_list] == ["beta-model"]
    assert client.get(CHANGELIST, {"created_at__year": call_year()}).status_code == 200

    call = ModelCall.objects.get(model="alpha-model")
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    detail = client.get(f"{CHANGELIST}{call.pk}/change/")
    assert detail.status_code == 200  # viewable, without a save button
    assert 'name="_save"' not in detail.content.decode()
    client.post(f"{CHANGELIST}{call.pk}/change/", {"model": "edited"})
    client.post(f"{CHANGELIST}{call.pk}/delete/", {"post": "yes"})
    call.refresh_from_db()
    assert call.model == "alpha-model"
