"""The admin lists keys without their secret and revokes through the service."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/apikeys/apikey/"


def test_admin_lists_keys_never_their_secret_and_revokes(client, superuser, member, make_key):
    key, raw = make_key(member, name="nightly")
    client.force_login(superuser)
    page = client.get(CHANGELIST)
    assert page.status_code == 200
    assert key.prefix in page.content.decode()
    detail = client.get(f"{CHANGELIST}{key.pk}/change/").content.decode()
    for needle in (raw, key.secret_hash):
        assert needle not in page.content.decode()
        assert needle not in detail
    assert client.get("/admin/apikeys/apikey/add/").status_code == 403

    response = client.post(
        CHANGELIST, {"action": "revoke", "_selected_action": [str(key.pk)]}, follow=True
    )
    assert response.status_code == 200
    key.refresh_from_db()
    assert key.revoked_at is not None
    revoked = LogEntry.objects.get(additional_data__event="revoked")
    assert revoked.actor_id == superuser.pk
