"""Activity entries for API, admin and command changes: actor, request id, no secrets."""

from __future__ import annotations

from io import StringIO

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group
from django.core.management import call_command

from apps.items.models import Item
from apps.users.models import User

pytestmark = pytest.mark.django_db


def entries_for(obj) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(obj).order_by("timestamp", "pk"))


def assert_no_secret(user: User) -> None:
    hashed = User.objects.get(pk=user.pk).password
    for entry in LogEntry.objects.all():
        text = f"{entry.changes} {entry.serialized_data} {entry.additional_data}"
        assert hashed not in text
        assert hashed.split("$")[-1] not in text


def test_api_create_records_actor_request_id_and_fields(client_for, member):
    user = member
    client = client_for(user)
    response = client.post(
        "/api/v1/items/", {"title": "Logged", "description": "d"}, HTTP_X_REQUEST_ID="req-123"
    )
    assert response.status_code == 201
    (entry,) = entries_for(Item.objects.get(pk=response.json()["id"]))
    assert entry.action == LogEntry.Action.CREATE
    assert entry.actor == user
    assert entry.cid == "req-123"
    assert entry.changes_dict["title"] == ["None", "Logged"]


def test_api_update_records_old_and_new_values(client_for, member):
    user = member
    client = client_for(user)
    item_id = client.post("/api/v1/items/", {"title": "Before"}).json()["id"]
    client.patch(f"/api/v1/items/{item_id}", {"title": "After"})
    update = entries_for(Item.objects.get(pk=item_id))[-1]
    assert update.action == LogEntry.Action.UPDATE
    assert update.changes_dict == {"title": ["Before", "After"]}
    assert update.actor == user


def test_signup_and_password_change_never_store_the_password(api, client_for):
    response = api.post(
        "/api/v1/users/signup",
        {"email": "new@example.com", "password": "a-long-signup-passphrase", "full_name": "N"},
    )
    assert response.status_code == 201
    user = User.objects.get(email="new@example.com")
    client_for(user).patch(
        "/api/v1/users/me/password",
        {"current_password": "a-long-signup-passphrase", "new_password": "another-passphrase-9"},
    )
    changes = [entry.changes_dict for entry in entries_for(user)]
    assert any(change.get("password") == ["[secret]", "[secret]"] for change in changes)
    assert all("last_login" not in change for change in changes)
    assert_no_secret(user)


def test_admin_change_is_recorded_with_the_staff_actor(admin_client, superuser, user):
    role = Group.objects.create(name="auditors")
    response = admin_client.post(
        f"/admin/auth/group/{role.pk}/change/",
        {
            "name": "auditors-renamed",
            "profile-TOTAL_FORMS": "1",
            "profile-INITIAL_FORMS": "0",
            "profile-MIN_NUM_FORMS": "0",
            "profile-MAX_NUM_FORMS": "1",
            "profile-0-description": "",
            "profile-0-role": role.pk,
        },
    )
    assert response.status_code == 302, response.content
    update = [e for e in entries_for(role) if e.action == LogEntry.Action.UPDATE][-1]
    assert update.actor == superuser
    assert update.changes_dict["name"] == ["auditors", "auditors-renamed"]
    assert update.cid  # the admin request's id


def test_command_changes_are_marked_as_coming_from_the_command():
    call_command("seed_demo", stdout=StringIO())
    alice = User.objects.get(email="alice@demo.example.com")
    (created,) = [e for e in entries_for(alice) if e.action == LogEntry.Action.CREATE]
    assert created.actor is None
    assert created.additional_data == {"source": "command", "command": "seed_demo"}
    assert (
        "password" not in created.changes_dict or created.changes_dict["password"][1] == "[secret]"
    )
    assert_no_secret(alice)


@pytest.mark.django_db(transaction=True)
def test_a_user_deleting_themselves_leaves_an_entry_naming_them_by_email(client_for, make_user):
    user = make_user(email="leaving@example.com")
    user_id = user.pk
    assert client_for(user).delete("/api/v1/users/me").status_code == 200
    deleted = LogEntry.objects.get(object_pk=str(user_id), action=LogEntry.Action.DELETE)
    assert deleted.actor_id is None
    assert deleted.actor_email == "leaving@example.com"
