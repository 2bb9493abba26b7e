"""The escalations found in review, one test each, tried through the API as an attacker
would; and the activity entries every change of rights leaves.

Class 1 (sharing widened rights): a holder of only `share` granted change/delete/share,
shared with a role it belongs to, and revoked grants others gave.
Class 2 (role management escalated): a holder of `auth.change_group` added itself to the
`admin` role, and gave roles permissions it did not hold.
"""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group

from apps.rbac.rights import Refused
from apps.rbac.services import role_create, user_set_roles
from apps.users.models import User
from apps.users.services import user_update
from launch.permissions import grants_of, object_actions_of, share_with_role, share_with_user
from tests.factories import create_item
from tests.support.reliability import record

pytestmark = [pytest.mark.django_db, pytest.mark.promise(6)]

ROLES = "/api/v1/roles"
ACTIVITY = "/api/v1/activity"


def shares_url(item) -> str:
    return f"/api/v1/items/{item.pk}/shares"


def put_share(client, item, **payload):
    return client.put(shares_url(item), payload, format="json")


@pytest.fixture
def owner(make_member) -> User:
    return make_member()


@pytest.fixture
def item(owner):
    return create_item(owner=owner)


@pytest.fixture
def sharer(make_member, item, owner) -> User:
    """A member the owner gave only `share` (which implies `view`) on the item."""
    user = make_member()
    share_with_user(item, user, ["share"], granted_by=owner)
    return user


@pytest.fixture
def target(make_member) -> User:
    return make_member()


@pytest.fixture
def role_manager(make_user, roles) -> User:
    """Every `auth.*_group` permission and the member role, nothing else."""
    managers = role_create(
        actor=None,
        name="role-managers",
        permissions=[f"auth.{a}_group" for a in ("view", "add", "change", "delete")],
    )
    user = make_user()
    user_set_roles(actor=None, user=user, roles=[managers, roles["member"]])
    return user


# --- class 1: sharing ------------------------------------------------------------------


@pytest.mark.parametrize(
    "actions", [["change"], ["delete"], ["share", "change"], ["view", "change", "delete"]]
)
def test_a_share_only_holder_cannot_grant_more_than_it_holds(
    client_for, sharer, target, item, actions
):
    response = put_share(client_for(sharer), item, user_id=str(target.pk), permissions=actions)
    assert response.status_code == 403, response.content
    assert grants_of(item, user=target) == {}
    record("escalation attempts refused")


@pytest.mark.parametrize("actions", [["view"], ["share"]])
def test_a_share_only_holder_may_grant_what_it_holds_and_is_named_granter(
    client_for, sharer, target, item, actions
):
    response = put_share(client_for(sharer), item, user_id=str(target.pk), permissions=actions)
    assert response.status_code == 200, response.content
    assert grants_of(item, user=target) == dict.fromkeys({"view", *actions}, sharer.pk)


def test_a_sharer_holding_change_may_pass_it_on(client_for, make_member, target, item, owner):
    editor = make_member()
    share_with_user(item, editor, ["change", "share"], granted_by=owner)
    response = put_share(
        client_for(editor), item, user_id=str(target.pk), permissions=["view", "change"]
    )
    assert response.status_code == 200, response.content
    assert object_actions_of(target, item) == {"view", "change"}


def test_a_share_only_holder_cannot_share_with_its_own_role(client_for, sharer, item, roles):
    response = put_share(
        client_for(sharer), item, role_id=roles["member"].pk, permissions=["view", "change"]
    )
    assert response.status_code == 403
    # ... not even what it holds: a role share is for the owner and role managers
    response = put_share(client_for(sharer), item, role_id=roles["member"].pk, permissions=["view"])
    assert response.status_code == 403
    assert grants_of(item, role=roles["member"]) == {}
    assert object_actions_of(User.objects.get(pk=sharer.pk), item) == {"view", "share"}
    record("escalation attempts refused", 2)


def test_a_role_managing_sharer_shares_with_a_role_only_what_it_holds(
    client_for, role_manager, item, owner, roles
):
    share_with_user(item, role_manager, ["share"], granted_by=owner)
    client = client_for(role_manager)
    refused = put_share(client, item, role_id=roles["viewer"].pk, permissions=["view", "change"])
    assert refused.status_code == 403
    allowed = put_share(client, item, role_id=roles["viewer"].pk, permissions=["view"])
    assert allowed.status_code == 200, allowed.content
    assert grants_of(item, role=roles["viewer"]) == {"view": role_manager.pk}


def test_the_owner_shares_with_a_role(client_for, owner, item, roles):
    response = put_share(
        client_for(owner), item, role_id=roles["viewer"].pk, permissions=["view", "change"]
    )
    assert response.status_code == 200
    assert grants_of(item, role=roles["viewer"]) == {"view": owner.pk, "change": owner.pk}


def test_a_sharer_cannot_revoke_or_narrow_grants_others_gave(
    client_for, sharer, make_member, item, owner
):
    colleague = make_member()
    share_with_user(item, colleague, ["view", "change"], granted_by=owner)
    client = client_for(sharer)
    for permissions in ([], ["view"]):
        response = put_share(client, item, user_id=str(colleague.pk), permissions=permissions)
        assert response.status_code == 403, response.content
    assert set(grants_of(item, user=colleague)) == {"view", "change"}
    record("escalation attempts refused", 2)


def test_a_sharer_cannot_revoke_a_role_grant_it_did_not_make(client_for, sharer, item, roles):
    share_with_role(item, roles["viewer"], ["view"])  # a command's grant: no granter
    response = put_share(client_for(sharer), item, role_id=roles["viewer"].pk, permissions=[])
    assert response.status_code == 403
    assert grants_of(item, role=roles["viewer"]) == {"view": None}


def test_a_sharer_revokes_the_grants_it_made(client_for, sharer, target, item):
    client = client_for(sharer)
    assert put_share(client, item, user_id=str(target.pk), permissions=["view"]).status_code == 200
    response = put_share(client, item, user_id=str(target.pk), permissions=[])
    assert response.status_code == 200
    assert grants_of(item, user=target) == {}


@pytest.mark.parametrize("actor", ["owner", "superuser"])
def test_the_owner_and_superusers_revoke_any_grant_but_the_owners(
    request, client_for, sharer, item, actor
):
    owner, target = request.getfixturevalue("owner"), request.getfixturevalue("target")
    put_share(client_for(sharer), item, user_id=str(target.pk), permissions=["view"])
    client = client_for(request.getfixturevalue(actor))
    assert put_share(client, item, user_id=str(target.pk), permissions=[]).status_code == 200
    assert put_share(client, item, user_id=str(sharer.pk), permissions=[]).status_code == 200
    assert grants_of(item, user=target) == grants_of(item, user=sharer) == {}
    if actor == "superuser":
        response = put_share(client, item, user_id=str(owner.pk), permissions=[])
        assert response.status_code == 422
    assert len(grants_of(item, user=owner)) == 4


def test_a_superuser_grants_anything(client_for, superuser, target, item):
    response = put_share(
        client_for(superuser), item, user_id=str(target.pk), permissions=["delete", "share"]
    )
    assert response.status_code == 200
    assert grants_of(item, user=target) == {
        "view": superuser.pk,
        "delete": superuser.pk,
        "share": superuser.pk,
    }


# --- class 2: roles ---------------------------------------------------------------------


def test_a_role_manager_cannot_join_the_admin_role(client_for, role_manager, roles):
    response = client_for(role_manager).post(
        f"{ROLES}/{roles['admin'].pk}/members", {"user_id": str(role_manager.pk)}, format="json"
    )
    assert response.status_code == 403, response.content
    assert "rights you do not hold (" in response.json()["detail"]  # named
    assert not role_manager.groups.filter(name="admin").exists()
    record("escalation attempts refused")


def test_a_role_manager_cannot_put_anyone_in_a_role_it_does_not_hold(
    client_for, role_manager, target, roles
):
    client = client_for(role_manager)
    response = client.post(
        f"{ROLES}/{roles['admin'].pk}/members", {"user_id": str(target.pk)}, format="json"
    )
    assert response.status_code == 403
    assert not target.groups.filter(name="admin").exists()


def test_a_role_manager_cannot_take_members_from_or_delete_a_stronger_role(
    client_for, role_manager, make_member, roles
):
    admin = make_member(role="admin")
    client = client_for(role_manager)
    assert client.delete(f"{ROLES}/{roles['admin'].pk}/members/{admin.pk}").status_code == 403
    assert client.delete(f"{ROLES}/{roles['admin'].pk}").status_code == 403
    assert admin.groups.filter(name="admin").exists()


def test_a_role_manager_cannot_give_a_role_permissions_it_lacks(client_for, role_manager):
    mine = role_create(actor=None, name="mine", permissions=["items.view_item"])
    client = client_for(role_manager)
    patched = client.patch(
        f"{ROLES}/{mine.pk}", {"permissions": ["items.view_item", "users.change_user"]}
    )
    assert patched.status_code == 403, patched.content
    assert "users.change_user" in patched.json()["detail"]
    created = client.post(ROLES, {"name": "made", "permissions": ["users.change_user"]})
    assert created.status_code == 403
    assert not Group.objects.filter(name="made").exists()
    assert set(mine.permissions.values_list("codename", flat=True)) == {"view_item"}
    record("escalation attempts refused", 2)


def test_a_role_manager_cannot_change_a_role_whose_object_grants_it_lacks(
    client_for, role_manager, owner, item
):
    editors = role_create(actor=None, name="editors", permissions=["items.view_item"])
    share_with_role(item, editors, ["view", "change"], granted_by=owner)
    client = client_for(role_manager)
    joined = client.post(f"{ROLES}/{editors.pk}/members", {"user_id": str(role_manager.pk)})
    assert joined.status_code == 403, joined.content
    assert "change on items.item" in joined.json()["detail"]
    renamed = client.patch(f"{ROLES}/{editors.pk}", {"description": "mine now"})
    assert renamed.status_code == 403
    assert object_actions_of(User.objects.get(pk=role_manager.pk), item) == set()


def test_a_role_manager_manages_roles_within_its_own_rights(client_for, role_manager, target):
    client = client_for(role_manager)
    created = client.post(ROLES, {"name": "readers", "permissions": ["items.view_item"]})
    assert created.status_code == 201, created.content
    role_id = created.json()["id"]
    added = client.post(f"{ROLES}/{role_id}/members", {"user_id": str(target.pk)})
    assert added.status_code == 201
    assert client.delete(f"{ROLES}/{role_id}/members/{target.pk}").status_code == 200


@pytest.mark.parametrize("name", ["admin", "viewer"])
def test_a_role_manager_cannot_take_a_default_roles_name(client_for, role_manager, roles, name):
    """A role created (or renamed) and joined under a default role's name would gain
    that role's permissions at the next `bootstrap`."""
    roles[name].delete()  # say a superuser removed it
    client = client_for(role_manager)
    assert client.post(ROLES, {"name": name}).status_code == 403
    mine = role_create(actor=None, name="mine")
    assert client.patch(f"{ROLES}/{mine.pk}", {"name": name}).status_code == 403
    assert not Group.objects.filter(name=name).exists()


def test_only_superusers_set_flags_even_past_the_api(make_member, superuser):
    staff = make_member(is_staff=True)
    with pytest.raises(Refused):
        user_update(user=staff, actor=staff, is_superuser=True)
    with pytest.raises(Refused):
        user_update(user=make_member(), actor=staff, is_staff=True)
    assert not User.objects.get(pk=staff.pk).is_superuser
    user_update(user=staff, actor=superuser, is_superuser=True)
    assert User.objects.get(pk=staff.pk).is_superuser


@pytest.mark.parametrize("field", ["is_superuser", "is_staff", "roles"])
def test_users_api_refuses_flags_and_roles_from_non_superusers(
    client_for, role_manager, roles, field
):
    data = {field: [roles["admin"].pk] if field == "roles" else True}
    client = client_for(role_manager)
    assert client.patch(f"/api/v1/users/{role_manager.pk}", data, format="json").status_code == 403
    assert client.patch("/api/v1/users/me", data, format="json").status_code == 200  # ignored
    fresh = User.objects.get(pk=role_manager.pk)
    assert not fresh.is_superuser
    assert not fresh.is_staff
    assert not fresh.groups.filter(name="admin").exists()


# --- every change of rights is recorded ------------------------------------------------


def rights_entries(client) -> list[dict]:
    body = client.get(ACTIVITY, {"rights": "true", "limit": 100}).json()
    return body["data"]


def test_grants_roles_and_flags_appear_in_the_activity_log(
    request, client_for, item, target, role_manager
):
    owner, roles = request.getfixturevalue("owner"), request.getfixturevalue("roles")
    superuser = request.getfixturevalue("superuser")
    put_share(client_for(owner), item, user_id=str(target.pk), permissions=["change"])
    client_for(role_manager).post(
        f"{ROLES}/{roles['viewer'].pk}/members", {"user_id": str(target.pk)}
    )
    root = client_for(superuser)
    root.patch(f"{ROLES}/{roles['viewer'].pk}", {"permissions": ["items.view_item"]})
    root.patch(f"/api/v1/users/{target.pk}", {"is_staff": True}, format="json")

    by_kind: dict[str, dict] = {}
    for entry in rights_entries(root):  # newest first: keep the newest of each kind
        by_kind.setdefault(entry["additional_data"]["rights"], entry)
    grant = by_kind["grants"]
    assert grant["object_type"] == "items.item"
    assert grant["object_id"] == str(item.pk)
    assert grant["actor_id"] == str(owner.pk)
    assert grant["changes"] == {f"grants of user {target.email}": [[], ["view", "change"]]}
    assert grant["additional_data"]["principal_id"] == str(target.pk)

    membership = by_kind["roles"]
    assert (membership["object_type"], membership["object_id"]) == ("users.user", str(target.pk))
    assert membership["actor_id"] == str(role_manager.pk)
    assert membership["changes"] == {"roles": [["member"], ["member", "viewer"]]}

    role_change = by_kind["role_permissions"]
    assert role_change["object_id"] == str(roles["viewer"].pk)
    before, after = role_change["changes"]["role_permissions"]
    assert "tags.view_tag" in before
    assert after == ["items.view_item"]

    flags = by_kind["flags"]
    assert flags["actor_id"] == str(superuser.pk)
    assert flags["changes"] == {"is_staff": [False, True]}


def test_refused_changes_leave_no_entry(client_for, sharer, target, item):
    before = LogEntry.objects.count()
    response = put_share(client_for(sharer), item, user_id=str(target.pk), permissions=["delete"])
    assert response.status_code == 403
    assert LogEntry.objects.count() == before


def test_the_activity_rights_filter_excludes_other_entries(client_for, superuser, owner):
    create_item(owner=owner, title="Plain")
    root = client_for(superuser)
    assert all(e["additional_data"] for e in rights_entries(root))
    others = root.get(ACTIVITY, {"rights": "false", "limit": 100}).json()["data"]
    assert "Plain" in {e["object_repr"] for e in others}
    assert all("rights" not in (e["additional_data"] or {}) for e in others)
