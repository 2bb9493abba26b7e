"""Every create, use from a new address and revoke lands in the activity log; the key
and its hash appear in no entry and no log line."""

from __future__ import annotations

import json
import logging

import pytest
from auditlog.models import LogEntry

from apps.apikeys.models import ApiKey

pytestmark = pytest.mark.django_db

URL = "/api/v1/api-keys"


def _entries(key: ApiKey) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(key).order_by("timestamp", "pk"))


def _events(key: ApiKey) -> list[str]:
    return [entry.additional_data["event"] for entry in _entries(key)]


@pytest.mark.promise(6)
def test_create_new_addresses_and_revoke_are_logged_with_actor_and_address(
    client_for, key_client, member
):
    created = client_for(member).post(URL, {"name": "ci", "scopes": ["items.view_item"]})
    key = ApiKey.objects.get(pk=created.json()["id"])
    raw = created.json()["key"]
    key_client(raw, address="203.0.113.7").get("/api/v1/items/")
    key_client(raw, address="203.0.113.7").get("/api/v1/items/")  # not new: no entry
    key_client(raw, address="2001:db8::1").get("/api/v1/items/")
    client_for(member).delete(f"{URL}/{key.pk}")

    entries = _entries(key)
    assert [e.additional_data["event"] for e in entries] == [
        "created",
        "new_address",
        "new_address",
        "revoked",
    ]
    assert all(e.actor_id == member.pk for e in entries)
    assert all(e.additional_data["api_key"] == key.prefix for e in entries)
    assert [e.remote_addr for e in entries[1:3]] == ["203.0.113.7", "2001:db8::1"]
    assert entries[0].action == LogEntry.Action.CREATE
    assert entries[1].action == LogEntry.Action.ACCESS
    assert entries[3].action == LogEntry.Action.UPDATE


def test_an_address_forgotten_past_the_limit_is_new_again(key_client, member, make_key, settings):
    settings.API_KEY_SEEN_ADDRESSES = 2
    key, raw = make_key(member)
    for address in ("192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.1"):
        key_client(raw, address=address).get("/api/v1/users/me")
    key.refresh_from_db()
    assert key.seen_addresses == ["192.0.2.3", "192.0.2.1"]
    assert _events(key).count("new_address") == 4


def test_the_key_never_reaches_logs_or_the_activity_log(client_for, key_client, member, caplog):
    caplog.set_level(logging.DEBUG)
    created = client_for(member).post(URL, {"name": "ci", "scopes": ["items.view_item"]})
    raw = created.json()["key"]
    key = ApiKey.objects.get(pk=created.json()["id"])
    program = key_client(raw, address="198.51.100.4")
    program.get("/api/v1/items/")
    program.post("/api/v1/items/", {"title": "refused"})  # 403: logged as a warning
    key_client(raw[:-1] + "x").get("/api/v1/items/")  # 401
    client_for(member).delete(f"{URL}/{key.pk}")
    program.get("/api/v1/items/")  # 401: revoked

    secret = raw.split("_", 2)[2]
    log_text = caplog.text + "".join(json.dumps(r.__dict__, default=str) for r in caplog.records)
    assert caplog.records  # the requests were logged
    for needle in (raw, secret, key.secret_hash):
        assert needle not in log_text
    entries = LogEntry.objects.all()
    assert entries.filter(additional_data__api_key=key.prefix).count() == 3
    for entry in entries:
        stored = json.dumps(
            [entry.changes, entry.additional_data, entry.object_repr, entry.serialized_data],
            default=str,
        )
        for needle in (raw, secret, key.secret_hash):
            assert needle not in stored


def test_the_access_log_names_the_keys_prefix_only(
    key_client, client_for, member, make_key, caplog
):
    key, raw = make_key(member)
    caplog.set_level(logging.INFO, logger="launch.request")
    key_client(raw).get("/api/v1/users/me")
    client_for(member).get("/api/v1/users/me")
    lines = [r for r in caplog.records if r.name == "launch.request"]
    assert [getattr(r, "api_key", None) for r in lines] == [key.prefix, None]
    assert [getattr(r, "user_id", None) for r in lines] == [str(member.pk)] * 2
