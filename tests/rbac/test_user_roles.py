"""Roles as the users API shows and changes them: signup's default role, `roles` on
UserPublic, and superusers replacing a user's roles through `PATCH /users/{id}`."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from apps.users.models import User

pytestmark = pytest.mark.django_db


def test_signup_gives_the_default_role(api, roles, settings):
    settings.DEFAULT_ROLE = "viewer"
    answer = api.post(
        "/api/v1/users/signup",
        {"email": "new@example.com", "password": "a-long-enough-passphrase"},
        format="json",
    )
    assert answer.status_code == 201
    assert answer.json()["roles"] == ["viewer"]
    assert list(
        User.objects.get(email="new@example.com").groups.values_list("name", flat=True)
    ) == ["viewer"]


def test_signup_without_a_default_role_gives_none(api, roles, settings):
    settings.DEFAULT_ROLE = ""
    answer = api.post(
        "/api/v1/users/signup",
        {"email": "bare@example.com", "password": "a-long-enough-passphrase"},
        format="json",
    )
    assert answer.status_code == 201
    assert answer.json()["roles"] == []


def test_me_and_list_show_role_names_sorted(client_for, superuser, make_member):
    someone = make_member(role="viewer")
    someone.groups.add(Group.objects.get(name="admin"))
    assert client_for(someone).get("/api/v1/users/me").json()["roles"] == ["admin", "viewer"]
    listed = client_for(superuser).get(f"/api/v1/users/?search={someone.email}").json()
    assert listed["data"][0]["roles"] == ["admin", "viewer"]


def test_superuser_replaces_roles_with_patch(client_for, superuser, make_member, roles):
    someone = make_member(role="member")
    answer = client_for(superuser).patch(
        f"/api/v1/users/{someone.pk}", {"roles": [roles["viewer"].pk]}, format="json"
    )
    assert answer.status_code == 200
    assert answer.json()["roles"] == ["viewer"]
    assert set(someone.groups.values_list("name", flat=True)) == {"viewer"}


def test_patch_with_an_unknown_role_is_422_and_changes_nothing(
    client_for, superuser, make_member, roles
):
    someone = make_member(role="member")
    answer = client_for(superuser).patch(
        f"/api/v1/users/{someone.pk}", {"roles": [999_999], "full_name": "Changed"}, format="json"
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "roles"]
    someone.refresh_from_db()
    assert someone.full_name != "Changed"
    assert set(someone.groups.values_list("name", flat=True)) == {"member"}


def test_a_user_cannot_change_its_own_roles(client_for, make_member, roles):
    someone = make_member(role="viewer")
    answer = client_for(someone).patch(
        "/api/v1/users/me", {"roles": [roles["admin"].pk]}, format="json"
    )
    assert answer.status_code == 200
    assert set(someone.groups.values_list("name", flat=True)) == {"viewer"}


@pytest.mark.parametrize("page", [2, 40])
def test_user_list_query_count_does_not_grow_with_the_page(
    client_for, superuser, make_member, django_assert_max_num_queries, page
):
    for _ in range(40):
        make_member(role="member")
    client = client_for(superuser)
    # the access token's user (cached from the first request on), then the page (roles
    # in a subquery) with the count
    with django_assert_max_num_queries(2):
        answer = client.get(f"/api/v1/users/?limit={page}")
    assert len(answer.json()["data"]) == page
