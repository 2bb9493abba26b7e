"""The users admin: forms by email, search, filters, actions that revoke tokens."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

from apps.users.models import User
from apps.users.tokens import token_pair_issue
from tests.conftest import PASSWORD
from tests.factories import roles

__all__ = ["roles"]  # a fixture

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/users/user/"


@pytest.fixture
def admin_client(superuser) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


def revoked(user: User) -> int:
    return BlacklistedToken.objects.filter(token__user=user).count()


def test_changelist_search_and_filters(admin_client, make_user):
    make_user(email="findme@example.com", full_name="Find Me")
    make_user(email="other@example.com", is_active=False)
    page = admin_client.get(CHANGELIST, {"q": "find"}).content.decode()
    assert "findme@example.com" in page
    assert "other@example.com" not in page
    inactive = admin_client.get(CHANGELIST, {"is_active__exact": "0"}).content.decode()
    assert "other@example.com" in inactive
    assert "findme@example.com" not in inactive


def test_add_user_by_email(admin_client):
    response = admin_client.post(
        "/admin/users/user/add/",
        {
            "email": "Added@Example.com",
            "full_name": "Added",
            "usable_password": "true",
            "password1": "an-admin-set-passphrase",
            "password2": "an-admin-set-passphrase",
        },
    )
    assert response.status_code == 302, response.content
    assert User.objects.get(email="added@example.com").check_password("an-admin-set-passphrase")


def test_add_user_gets_the_default_role_as_a_signup_does(admin_client, roles, settings):
    settings.DEFAULT_ROLE = "viewer"
    response = admin_client.post(
        "/admin/users/user/add/",
        {"email": "staffmade@example.com", "usable_password": "false"},
    )
    assert response.status_code == 302, response.content
    added = User.objects.get(email="staffmade@example.com")
    assert list(added.groups.values_list("name", flat=True)) == ["viewer"]
    assert not added.has_usable_password()


def test_add_user_duplicate_email_is_a_form_error(admin_client, user):
    response = admin_client.post(
        "/admin/users/user/add/",
        {
            "email": user.email.upper(),
            "usable_password": "true",
            "password1": "an-admin-set-passphrase",
            "password2": "an-admin-set-passphrase",
        },
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert User.objects.filter(email=user.email).count() == 1


def _change_data(user: User, **overrides) -> dict:
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "is_active": "on" if user.is_active else "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


def test_change_form_shows_permission_widgets(admin_client, user):
    page = admin_client.get(f"/admin/users/user/{user.pk}/change/").content.decode()
    assert 'name="groups"' in page
    assert 'name="user_permissions"' in page
    assert "selectfilter" in page.lower()


def test_change_form_deactivation_revokes_tokens(admin_client, user):
    token_pair_issue(user=user)
    response = admin_client.post(
        f"/admin/users/user/{user.pk}/change/", _change_data(user, is_active="")
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    assert not user.is_active
    assert revoked(user) == 1


def test_change_form_rename_keeps_tokens(admin_client, user):
    token_pair_issue(user=user)
    response = admin_client.post(
        f"/admin/users/user/{user.pk}/change/", _change_data(user, full_name="Renamed")
    )
    assert response.status_code == 302
    assert revoked(user) == 0


def test_admin_password_change_revokes_tokens(admin_client, user):
    token_pair_issue(user=user)
    response = admin_client.post(
        f"/admin/users/user/{user.pk}/password/",
        {"password1": "an-admin-set-passphrase", "password2": "an-admin-set-passphrase"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("an-admin-set-passphrase")
    assert revoked(user) == 1


def test_admin_can_disable_password_login(admin_client, user):
    response = admin_client.post(
        f"/admin/users/user/{user.pk}/password/",
        {"usable_password": "false", "unset-password": "1"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_deactivate_and_activate_actions(admin_client, make_user):
    users = [make_user(), make_user()]
    for u in users:
        token_pair_issue(user=u)
    ids = [str(u.pk) for u in users]
    response = admin_client.post(
        CHANGELIST, {"action": "deactivate_users", "_selected_action": ids}, follow=True
    )
    assert "2 user(s) deactivated." in response.content.decode()
    assert not User.objects.filter(pk__in=ids, is_active=True).exists()
    assert all(revoked(u) == 1 for u in users)
    admin_client.post(CHANGELIST, {"action": "activate_users", "_selected_action": ids})
    assert User.objects.filter(pk__in=ids, is_active=True).count() == 2


def test_delete_from_admin_revokes_tokens(admin_client, user):
    raw = token_pair_issue(user=user).refresh_token
    response = admin_client.post(f"/admin/users/user/{user.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    assert BlacklistedToken.objects.filter(token__token=raw).exists()


def test_bulk_delete_from_admin_revokes_tokens(admin_client, make_user):
    users = [make_user(), make_user()]
    raws = [token_pair_issue(user=u).refresh_token for u in users]
    admin_client.post(
        CHANGELIST,
        {
            "action": "delete_selected",
            "_selected_action": [str(u.pk) for u in users],
            "post": "yes",
        },
    )
    assert not User.objects.filter(pk__in=[u.pk for u in users]).exists()
    assert BlacklistedToken.objects.filter(token__token__in=raws).count() == 2


def test_admin_login_with_email(superuser):
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": superuser.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(CHANGELIST).status_code == 200
