from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from apps.rbac.services import role_create, user_set_roles

pytestmark = pytest.mark.django_db

ROLES = "/api/v1/roles/"


@pytest.fixture
def role_manager(make_user, roles):
    """A user holding every `auth.*_group` permission and the viewer role: it may build
    roles out of the view permissions it holds, and nothing more."""
    manager_role = role_create(
        actor=None,
        name="role-managers",
        permissions=[f"auth.{a}_group" for a in ("view", "add", "change", "delete")],
    )
    user = make_user()
    user_set_roles(actor=None, user=user, roles=[manager_role, roles["viewer"]])
    return user


@pytest.fixture
def custom(roles):
    return role_create(
        actor=None, name="editors", description="Edit things", permissions=["items.change_item"]
    )


def test_catalog_lists_launch_permissions_only(client_for, superuser):
    body = client_for(superuser).get("/api/v1/permissions").json()
    codenames = {row["codename"] for row in body["data"]}
    assert body["count"] == len(codenames)
    assert {"items.view_item", "items.share_item", "tags.add_tag", "auth.change_group"} <= codenames
    assert not any(c.startswith(("sessions.", "contenttypes.", "admin.")) for c in codenames)
    assert "auth.add_permission" not in codenames
    row = next(r for r in body["data"] if r["codename"] == "items.view_item")
    assert row == {
        "codename": "items.view_item",
        "name": "Can view item",
        "app_label": "items",
        "model": "item",
    }


def test_role_shape_and_default_flag(client_for, superuser, roles, make_member):
    make_member(role="member")
    body = client_for(superuser).get(ROLES).json()
    member = next(r for r in body["data"] if r["name"] == "member")
    assert set(member) == {"id", "name", "description", "permissions", "is_default", "user_count"}
    assert member["is_default"] is True
    assert member["user_count"] == 1
    assert "items.share_item" in member["permissions"]
    assert not next(r for r in body["data"] if r["name"] == "viewer")["is_default"]


def test_create_update_and_delete_a_role(client_for, role_manager, make_member):
    client = client_for(role_manager)
    created = client.post(ROLES, {"name": "auditors", "permissions": ["items.view_item"]})
    assert created.status_code == 201
    role_id = created.json()["id"]
    patched = client.patch(
        f"{ROLES}{role_id}", {"description": "Read only", "permissions": ["tags.view_tag"]}
    )
    assert patched.json()["permissions"] == ["tags.view_tag"]
    assert patched.json()["description"] == "Read only"

    holder = make_member(role=None)
    assert client.post(f"{ROLES}{role_id}/members", {"user_id": str(holder.pk)}).status_code == 201
    assert client.delete(f"{ROLES}{role_id}").json() == {"message": "Group deleted successfully"}
    assert not holder.groups.exists()


def test_unknown_codenames_are_422(client_for, superuser, custom):
    client = client_for(superuser)
    assert client.post(ROLES, {"name": "x", "permissions": ["items.fly_item"]}).status_code == 422
    assert (
        client.patch(f"{ROLES}{custom.pk}", {"permissions": ["sessions.view_session"]}).status_code
        == 422
    )
    assert not Group.objects.filter(name="x").exists()


def test_duplicate_role_name_is_409(client_for, superuser, custom):
    assert client_for(superuser).post(ROLES, {"name": "editors"}).status_code == 409


def test_default_role_cannot_be_deleted_or_renamed(client_for, superuser, roles):
    client = client_for(superuser)
    assert client.delete(f"{ROLES}{roles['member'].pk}").status_code == 409
    assert client.patch(f"{ROLES}{roles['member'].pk}", {"name": "members"}).status_code == 409
    assert Group.objects.filter(name="member").exists()


def test_members_add_and_remove(client_for, superuser, custom, make_member):
    client = client_for(superuser)
    user = make_member(role=None)
    url = f"{ROLES}{custom.pk}/members"
    assert client.post(url, {"user_id": str(user.pk)}).json()["user_count"] == 1
    assert client.post(url, {"user_id": "00000000-0000-0000-0000-000000000000"}).status_code == 422
    assert client.delete(f"{url}/{user.pk}").json() == {"message": "Member removed successfully"}
    assert client.delete(f"{url}/{user.pk}").status_code == 404
    assert client.delete(f"{url}/not-a-uuid").status_code == 404


# --- matrix ------------------------------------------------------------------------------

ROUTES = [
    ("get", "/api/v1/permissions", None),
    ("get", ROLES, None),
    ("post", ROLES, {"name": "new"}),
    ("get", "{role}", None),
    ("patch", "{role}", {"description": "d"}),
    ("delete", "{role}", None),
    ("post", "{role}/members", "{user}"),
    ("delete", "{role}/members/{user_id}", None),
]


@pytest.fixture
def call(make_member):
    """`call(client, route)`: the route against a fresh role holding one member."""

    def run(client, route):
        method, path, payload = route
        role = role_create(actor=None, name="target")
        user = make_member(role=None)
        role.user_set.add(user)
        url = path.format(role=f"{ROLES}{role.pk}", user_id=user.pk)
        data = {"user_id": str(user.pk)} if payload == "{user}" else payload
        return getattr(client, method)(url, data)

    return run


@pytest.mark.parametrize("route", ROUTES)
def test_anonymous_gets_401(api, call, route):
    assert call(api, route).status_code == 401


@pytest.mark.parametrize("route", ROUTES)
def test_member_without_group_permissions_gets_403(client_for, call, member, route):
    assert call(client_for(member), route).status_code == 403


@pytest.mark.parametrize("actor", ["role_manager", "superuser"])
@pytest.mark.parametrize("route", ROUTES)
def test_role_manager_and_superuser_pass(request, client_for, call, actor, route):
    response = call(client_for(request.getfixturevalue(actor)), route)
    assert response.status_code in (200, 201), response.content


def test_unknown_role_is_404(client_for, superuser):
    assert client_for(superuser).get(f"{ROLES}999999").status_code == 404
    assert client_for(superuser).get(f"{ROLES}abc").status_code == 404


# --- /users/me/permissions ------------------------------------------------------------------


def test_me_permissions_reflect_roles(client_for, make_member):
    viewer = make_member(role="viewer")
    body = client_for(viewer).get("/api/v1/users/me/permissions").json()
    assert body["roles"] == ["viewer"]
    assert "items.view_item" in body["permissions"]
    assert "items.change_item" not in body["permissions"]


def test_me_permissions_of_a_superuser_are_the_whole_catalog(client_for, superuser):
    body = client_for(superuser).get("/api/v1/users/me/permissions/").json()
    assert body["roles"] == []
    catalog = (
        Permission.objects.filter(
            content_type__app_label__in=["items", "tags", "users", "projects", "chat"]
        ).count()
        + Permission.objects.filter(content_type__model="group").count()
    )
    assert len(body["permissions"]) == catalog


def test_me_permissions_needs_authentication(api):
    assert api.get("/api/v1/users/me/permissions").status_code == 401
