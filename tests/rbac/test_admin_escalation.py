"""Escalation through the real admin forms: a staff user who is not a superuser posts
the change forms (Django's test client, logged in) as an attacker would, with the
fields it should not have or values it may not give, and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission
from django.test import Client

from apps.rbac.services import role_create, user_set_roles
from apps.users.models import User
from launch.permissions import grants_of, share_with_user
from tests.factories import create_item
from tests.support.reliability import record

pytestmark = [pytest.mark.django_db, pytest.mark.promise(6)]

USERS = "/admin/users/user"
GROUPS = "/admin/auth/group"


def permission(label: str) -> Permission:
    app_label, codename = label.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@pytest.fixture
def staff(make_user, roles) -> User:
    """Staff, not a superuser, holding the member role and a role that manages users and
    roles: exactly the account the review used."""
    managers = role_create(
        actor=None,
        name="user-managers",
        permissions=[
            "users.view_user",
            "users.change_user",
            "auth.view_group",
            "auth.add_group",
            "auth.change_group",
            "auth.delete_group",
        ],
    )
    user = make_user(is_staff=True)
    user_set_roles(actor=None, user=user, roles=[managers, roles["member"]])
    return user


@pytest.fixture
def browser(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def root_browser(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


def user_form(user: User, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "email": user.email,
        "full_name": user.full_name,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "groups": [str(pk) for pk in user.groups.values_list("pk", flat=True)],
    }
    data.update(overrides)
    return data


def role_form(role: Group, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": role.name,
        "permissions": [str(pk) for pk in role.permissions.values_list("pk", flat=True)]
        if role.pk
        else [],
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "1" if role.pk else "0",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-description": "",
        "profile-0-role": role.pk or "",
    }
    data.update(overrides)
    return data


def rights(user: User) -> tuple[bool, bool, set[str], set[str]]:
    fresh = User.objects.get(pk=user.pk)
    return (
        fresh.is_superuser,
        fresh.is_staff,
        set(fresh.user_permissions.values_list("codename", flat=True)),
        set(fresh.groups.values_list("name", flat=True)),
    )


def test_staff_cannot_make_itself_superuser_or_give_itself_permissions(browser, staff):
    before = rights(staff)
    everything = [str(pk) for pk in Permission.objects.values_list("pk", flat=True)]
    response = browser.post(
        f"{USERS}/{staff.pk}/change/",
        user_form(
            staff,
            is_superuser="on",
            is_staff="on",
            user_permissions=everything,
            full_name="Renamed",
        ),
    )
    # The flags and permissions are not fields of a non-superuser's form: ignored.
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert rights(staff) == before
    assert User.objects.get(pk=staff.pk).full_name == "Renamed"
    page = browser.get(f"{USERS}/{staff.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page
    assert 'name="user_permissions"' not in page
    record("escalation attempts refused")


def test_staff_cannot_put_itself_in_the_admin_role(browser, staff, roles):
    before = rights(staff)
    groups = [*user_form(staff)["groups"], str(roles["admin"].pk)]
    response = browser.post(f"{USERS}/{staff.pk}/change/", user_form(staff, groups=groups))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "admin" in str(errors["groups"])
    assert rights(staff) == before
    record("escalation attempts refused")


def test_staff_cannot_make_another_user_staff(browser, make_member):
    other = make_member()
    browser.post(f"{USERS}/{other.pk}/change/", user_form(other, is_staff="on", is_superuser="on"))
    assert rights(other)[:2] == (False, False)


def test_staff_gives_roles_it_holds_every_right_of(browser, make_member, roles):
    other = make_member(role=None)
    response = browser.post(
        f"{USERS}/{other.pk}/change/", user_form(other, groups=[str(roles["viewer"].pk)])
    )
    assert response.status_code == 302
    assert rights(other)[3] == {"viewer"}
    entry = LogEntry.objects.filter(additional_data__rights="roles").latest("pk")
    assert entry.object_pk == str(other.pk)
    assert entry.changes_dict == {"roles": [[], ["viewer"]]}


@pytest.mark.parametrize("kind", ["superuser", "stronger"])
def test_staff_cannot_take_over_a_stronger_account(browser, make_member, superuser, kind):
    target = superuser if kind == "superuser" else make_member(role="admin")
    password = User.objects.get(pk=target.pk).password
    change = browser.post(f"{USERS}/{target.pk}/change/", user_form(target, email="me@evil.io"))
    assert change.status_code == 403
    reset = browser.post(
        f"{USERS}/{target.pk}/password/",
        {"password1": "an-attacker-passphrase", "password2": "an-attacker-passphrase"},
    )
    assert reset.status_code == 403
    fresh = User.objects.get(pk=target.pk)
    assert (fresh.email, fresh.password) == (target.email, password)
    record("escalation attempts refused", 2)


def test_staff_cannot_reactivate_a_stronger_account(browser, make_member):
    admin = make_member(role="admin", is_active=False)
    browser.post(
        f"{USERS}/",
        {"action": "activate_users", ACTION_CHECKBOX_NAME: [str(admin.pk)]},
    )
    assert not User.objects.get(pk=admin.pk).is_active


def test_staff_cannot_add_permissions_it_lacks_to_a_role(browser, staff):
    role = role_create(actor=None, name="helpers", permissions=["items.view_item"])
    wanted = [*role_form(role)["permissions"], str(permission("users.delete_user").pk)]
    response = browser.post(f"{GROUPS}/{role.pk}/change/", role_form(role, permissions=wanted))
    assert response.status_code == 200  # the form refuses the choice
    assert response.context["adminform"].form.errors["permissions"]
    assert set(role.permissions.values_list("codename", flat=True)) == {"view_item"}
    created = browser.post(
        f"{GROUPS}/add/",
        role_form(Group(name="sneaky"), permissions=[str(permission("users.delete_user").pk)]),
    )
    assert created.status_code == 200
    assert not Group.objects.filter(name="sneaky").exists()
    record("escalation attempts refused", 2)


def test_staff_cannot_change_or_delete_a_role_holding_more_than_it(browser, roles):
    admin = roles["admin"]
    before = set(admin.permissions.values_list("pk", flat=True))
    response = browser.post(f"{GROUPS}/{admin.pk}/change/", role_form(admin, permissions=[]))
    assert response.status_code == 403
    assert browser.post(f"{GROUPS}/{admin.pk}/delete/", {"post": "yes"}).status_code == 403
    assert set(admin.permissions.values_list("pk", flat=True)) == before
    record("escalation attempts refused", 2)


def test_staff_edits_a_role_within_its_rights_and_it_is_recorded(browser, staff):
    role = role_create(actor=None, name="helpers", permissions=["items.view_item"])
    wanted = [*role_form(role)["permissions"], str(permission("users.view_user").pk)]
    response = browser.post(f"{GROUPS}/{role.pk}/change/", role_form(role, permissions=wanted))
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert set(role.permissions.values_list("codename", flat=True)) == {"view_item", "view_user"}
    entry = LogEntry.objects.filter(additional_data__rights="role_permissions").latest("pk")
    assert entry.actor_id == staff.pk
    assert entry.changes_dict["role_permissions"] == [
        ["items.view_item"],
        ["items.view_item", "users.view_user"],
    ]


def test_assign_role_action_refuses_a_stronger_role(browser, make_member, roles):
    target = make_member(role=None)
    response = browser.post(
        f"{USERS}/",
        {
            "action": "assign_role",
            ACTION_CHECKBOX_NAME: [str(target.pk)],
            "apply": "1",
            "role": roles["admin"].pk,
        },
        follow=True,
    )
    assert "rights you do not hold" in response.content.decode()
    assert not target.groups.exists()


def test_object_permission_pages_grant_only_what_the_staff_user_holds(browser, staff, make_member):
    owner = make_member()
    item = create_item(owner=owner)
    share_with_user(item, staff, ["share"], granted_by=owner)
    colleague = make_member()
    share_with_user(item, colleague, ["change"], granted_by=owner)
    target = make_member()
    base = f"/admin/items/item/{item.pk}/permissions"

    grant = browser.post(f"{base}/user-manage/{target.pk}/", {"permissions": ["change_item"]})
    assert grant.status_code == 200  # the form shows the refusal
    assert grants_of(item, user=target) == {}
    revoke = browser.post(f"{base}/user-manage/{colleague.pk}/", {"permissions": []})
    assert revoke.status_code == 200
    assert set(grants_of(item, user=colleague)) == {"view", "change"}
    to_role = browser.post(
        f"{base}/group-manage/{Group.objects.get(name='member').pk}/",
        {"permissions": ["view_item", "change_item"]},
    )
    assert to_role.status_code == 200
    assert grants_of(item, role=Group.objects.get(name="member")) == {}

    allowed = browser.post(f"{base}/user-manage/{target.pk}/", {"permissions": ["view_item"]})
    assert allowed.status_code == 302
    assert grants_of(item, user=target) == {"view": staff.pk}
    record("escalation attempts refused", 3)


def test_a_superuser_sets_flags_and_permissions_in_the_admin_and_it_is_recorded(
    root_browser, superuser, make_member
):
    other = make_member()
    response = root_browser.post(
        f"{USERS}/{other.pk}/change/",
        user_form(
            other,
            is_staff="on",
            user_permissions=[str(permission("users.view_user").pk)],
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert rights(other)[:3] == (False, True, {"view_user"})
    kinds = {
        entry.additional_data["rights"]: entry
        for entry in LogEntry.objects.filter(object_pk=str(other.pk), actor=superuser)
    }
    assert kinds["flags"].changes_dict == {"is_staff": [False, True]}
    assert kinds["user_permissions"].changes_dict == {"user_permissions": [[], ["users.view_user"]]}
    page = root_browser.get(f"/admin/auditlog/logentry/{kinds['flags'].pk}/change/")
    assert page.status_code == 200


def test_role_names_follow_the_services_rules_as_form_errors(browser, root_browser, roles):
    viewer = roles["viewer"]
    renamed = browser.post(f"{GROUPS}/{viewer.pk}/change/", role_form(viewer, name="watchers"))
    assert renamed.status_code == 200
    assert renamed.context["adminform"].form.errors["name"]
    member = roles["member"]
    fixed = root_browser.post(f"{GROUPS}/{member.pk}/change/", role_form(member, name="members"))
    assert fixed.status_code == 200
    assert fixed.context["adminform"].form.errors["name"]
    assert set(Group.objects.values_list("name", flat=True)) >= {"viewer", "member"}
