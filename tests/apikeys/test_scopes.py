"""What a key may do: its scopes, intersected at each request with what its creator
holds then. Keys never manage keys, passwords, email addresses or rights."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from apps.rbac.services import role_update, user_set_roles
from tests.factories import create_item, share_in_team

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/items/"


@pytest.mark.promise(6)
def test_a_key_does_only_what_its_scopes_name(key_client, member, make_key):
    item = create_item(owner=member)
    _, raw = make_key(member, scopes=["items.view_item"])
    program = key_client(raw)
    listed = program.get(ITEMS)
    assert listed.status_code == 200
    assert listed.json()["count"] == 1
    # The member may change and create items; this key may not.
    assert program.patch(f"{ITEMS}{item.pk}", {"title": "x"}).status_code == 403
    assert program.post(ITEMS, {"title": "new"}).status_code == 403
    assert program.delete(f"{ITEMS}{item.pk}").status_code == 403


@pytest.mark.promise(2)
def test_a_key_still_sees_only_rows_its_user_may_see(key_client, member, stranger, make_key):
    theirs = create_item(owner=stranger)
    _, raw = make_key(member, scopes=["items.view_item"])
    program = key_client(raw)
    assert program.get(ITEMS).json()["count"] == 0
    assert program.get(f"{ITEMS}{theirs.pk}").status_code == 404


@pytest.mark.promise(6)
def test_a_key_loses_a_right_when_its_creator_loses_its_role(key_client, member, make_key):
    _, raw = make_key(member, scopes=["items.view_item", "items.add_item"])
    program = key_client(raw)
    assert program.post(ITEMS, {"title": "before"}).status_code == 201
    user_set_roles(actor=None, user=member, roles=[])
    assert program.post(ITEMS, {"title": "after"}).status_code == 403
    assert program.get(ITEMS).status_code == 403


@pytest.mark.promise(6)
def test_a_key_loses_a_right_when_its_creators_role_loses_it(
    key_client, make_member, make_key, roles
):
    writer = make_member(role=None)
    role = Group.objects.create(name="writers")
    role_update(actor=None, role=role, permissions=["items.view_item", "items.add_item"])
    user_set_roles(actor=None, user=writer, roles=[role])
    _, raw = make_key(writer, scopes=["items.add_item"])
    program = key_client(raw)
    assert program.post(ITEMS, {"title": "before"}).status_code == 201
    role_update(actor=None, role=role, permissions=["items.view_item"])
    assert program.post(ITEMS, {"title": "after"}).status_code == 403


def test_my_permissions_through_a_key_are_its_scopes_the_user_holds(key_client, member, make_key):
    _, raw = make_key(member, scopes=["items.view_item", "tags.view_tag"])
    program = key_client(raw)
    assert program.get("/api/v1/users/me/permissions").json()["permissions"] == [
        "items.view_item",
        "tags.view_tag",
    ]
    user_set_roles(actor=None, user=member, roles=[])
    assert program.get("/api/v1/users/me/permissions").json()["permissions"] == []


@pytest.mark.promise(6)
def test_a_superusers_key_is_only_its_scopes(key_client, superuser, make_key, member):
    _, raw = make_key(superuser, scopes=["items.view_item"])
    program = key_client(raw)
    assert program.get(ITEMS).status_code == 200
    assert program.post(ITEMS, {"title": "x"}).status_code == 403
    # Endpoints reserved to superusers are not open to their keys.
    users = program.get("/api/v1/users/")
    assert users.status_code == 403
    assert "API keys" in users.json()["detail"]
    assert program.get(f"/api/v1/users/{member.pk}").status_code == 403


@pytest.mark.promise(6)
def test_a_key_cannot_change_password_email_or_account(key_client, member, make_key):
    _, raw = make_key(member, scopes=["items.view_item"])
    program = key_client(raw)
    password = program.patch(
        "/api/v1/users/me/password",
        {"current_password": "correct-horse-battery-staple", "new_password": "another-long-one-1"},
    )
    assert password.status_code == 403
    assert program.patch("/api/v1/users/me", {"email": "new@example.com"}).status_code == 403
    assert program.delete("/api/v1/users/me").status_code == 403
    member.refresh_from_db()
    assert member.check_password("correct-horse-battery-staple")
    assert member.is_active


@pytest.mark.promise(6)
def test_a_key_cannot_change_rights_even_with_the_scope(
    key_client, superuser, make_member, make_key
):
    other = make_member()
    item = create_item(owner=superuser)
    _, raw = make_key(
        superuser,
        scopes=[
            "auth.view_group",
            "auth.add_group",
            "auth.change_group",
            "items.share_item",
            "items.view_item",
        ],
    )
    program = key_client(raw)
    assert program.get("/api/v1/roles/").status_code == 200
    assert program.post("/api/v1/roles/", {"name": "new", "permissions": []}).status_code == 403
    member_role = Group.objects.get(name="member")
    added = program.post(f"/api/v1/roles/{member_role.pk}/members", {"user_id": str(other.pk)})
    assert added.status_code == 403
    assert program.get(f"{ITEMS}{item.pk}/shares").status_code == 200
    shared = program.put(
        f"{ITEMS}{item.pk}/shares", {"user_id": str(other.pk), "permissions": ["view"]}
    )
    assert shared.status_code == 403
    assert not Group.objects.filter(name="new").exists()


@pytest.mark.promise(6)
def test_sharing_grants_on_rows_do_not_widen_a_keys_scopes(key_client, member, stranger, make_key):
    theirs = create_item(owner=stranger)
    share_in_team(theirs, member, ["view", "change"])
    _, raw = make_key(member, scopes=["items.view_item"])
    program = key_client(raw)
    assert program.get(f"{ITEMS}{theirs.pk}").status_code == 200
    assert program.patch(f"{ITEMS}{theirs.pk}", {"title": "x"}).status_code == 403
