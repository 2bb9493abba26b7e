"""`/api/v1/api-keys`: create (the key shown once), list (never the key), revoke."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.apikeys.keys import KEY_RE
from apps.apikeys.models import ApiKey

pytestmark = pytest.mark.django_db

URL = "/api/v1/api-keys"


def test_create_shows_the_key_once_and_the_list_never(client_for, member):
    client = client_for(member)
    response = client.post(URL, {"name": "deploy", "scopes": ["items.view_item"]})
    assert response.status_code == 201, response.json()
    body = response.json()
    raw = body["key"]
    assert KEY_RE.match(raw)
    assert raw.startswith(body["prefix"] + "_")
    assert body["status"] == "active"
    assert body["scopes"] == ["items.view_item"]
    assert response["Cache-Control"] == "no-store"

    stored = ApiKey.objects.get(pk=body["id"])
    assert raw not in stored.secret_hash  # stored hashed, not in clear
    listed = client.get(URL)
    assert listed.status_code == 200
    text = listed.content.decode()
    assert raw not in text
    assert stored.secret_hash not in text
    assert raw.split("_", 2)[2] not in text  # nor the secret part alone
    data = listed.json()
    assert data["count"] == 1
    assert "key" not in data["data"][0]
    assert "secret_hash" not in data["data"][0]
    assert data["data"][0]["prefix"] == body["prefix"]


def test_list_shows_only_your_own_keys(client_for, member, stranger, make_key):
    make_key(stranger, name="theirs")
    mine, _ = make_key(member, name="mine")
    data = client_for(member).get(URL).json()
    assert [row["id"] for row in data["data"]] == [str(mine.pk)]


@pytest.mark.promise(6)
def test_scope_you_do_not_hold_is_403(client_for, make_member):
    viewer = make_member(role="viewer")
    response = client_for(viewer).post(URL, {"name": "x", "scopes": ["items.add_item"]})
    assert response.status_code == 403
    assert "items.add_item" in response.json()["detail"]
    assert not ApiKey.objects.exists()


def test_unknown_scope_and_past_expiry_are_422(client_for, member):
    client = client_for(member)
    unknown = client.post(URL, {"name": "x", "scopes": ["items.fly_item"]})
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "scopes"]
    past = (timezone.now() - timedelta(minutes=1)).isoformat()
    expired = client.post(URL, {"name": "x", "scopes": [], "expires_at": past})
    assert expired.status_code == 422
    assert expired.json()["detail"][0]["loc"] == ["body", "expires_at"]
    missing = client.post(URL, {"scopes": []})
    assert missing.status_code == 422


def test_more_active_keys_than_the_limit_is_409(client_for, member, make_key, settings):
    settings.API_KEY_MAX_PER_USER = 2
    make_key(member)
    revoked, _ = make_key(member)
    client = client_for(member)
    assert client.delete(f"{URL}/{revoked.pk}").status_code == 204
    assert client.post(URL, {"name": "second", "scopes": []}).status_code == 201
    assert client.post(URL, {"name": "third", "scopes": []}).status_code == 409


def test_revoke_is_204_and_others_keys_are_404(client_for, member, stranger, make_key):
    theirs, _ = make_key(stranger)
    mine, _ = make_key(member)
    client = client_for(member)
    assert client.delete(f"{URL}/{theirs.pk}").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    response = client.delete(f"{URL}/{mine.pk}/")
    assert response.status_code == 204
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    assert client.get(URL).json()["data"][0]["status"] == "revoked"
    # Revoking again changes nothing, and says so the same way.
    assert client.delete(f"{URL}/{mine.pk}").status_code == 204


def test_anonymous_gets_401(api):
    assert api.get(URL).status_code == 401
    assert api.post(URL, {"name": "x", "scopes": []}).status_code == 401


@pytest.mark.promise(6)
def test_a_key_cannot_list_create_or_revoke_keys(key_client, member, make_key):
    key, raw = make_key(member, scopes=["items.view_item"])
    client = key_client(raw)
    created = client.post(URL, {"name": "child", "scopes": ["items.view_item"]})
    assert created.status_code == 403
    assert "API keys may not" in created.json()["detail"]
    assert client.get(URL).status_code == 403
    assert client.delete(f"{URL}/{key.pk}").status_code == 403
    assert ApiKey.objects.count() == 1
    key.refresh_from_db()
    assert key.revoked_at is None


def test_a_user_without_a_role_may_make_only_a_scopeless_key(client_for, roleless):
    client = client_for(roleless)
    assert client.post(URL, {"name": "x", "scopes": ["items.view_item"]}).status_code == 403
    assert client.post(URL, {"name": "whoami", "scopes": []}).status_code == 201


def test_a_superuser_manages_only_its_own_keys_through_the_api(
    client_for, superuser, member, make_key
):
    theirs, _ = make_key(member)
    client = client_for(superuser)
    assert client.get(URL).json() == {"data": [], "count": 0}
    assert client.delete(f"{URL}/{theirs.pk}").status_code == 404
    # Any permission of the catalog is a superuser's to give its own key.
    created = client.post(URL, {"name": "ops", "scopes": ["auth.view_group", "users.view_user"]})
    assert created.status_code == 201


@pytest.mark.promise(6)
def test_a_key_reads_its_users_teams_but_changes_no_team(key_client, member, make_key):
    """Team writes move rights (roles, members, invitations): a person's act only."""
    _, raw = make_key(member, scopes=["items.view_item"])
    client = key_client(raw)
    listed = client.get("/api/v1/teams")
    assert listed.status_code == 200
    personal = listed.json()["data"][0]["id"]
    assert client.post("/api/v1/teams", {"name": "Shadow"}).status_code == 403
    assert client.patch(f"/api/v1/teams/{personal}", {"name": "Renamed"}).status_code == 403
    invite = {"email": "friend@example.com", "role": "member"}
    assert client.post(f"/api/v1/teams/{personal}/invitations", invite).status_code == 403
    assert client.post("/api/v1/invitations/unknown-token/accept").status_code == 403
