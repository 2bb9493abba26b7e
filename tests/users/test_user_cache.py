"""The user row authentication reads from the shared cache (launch/rights_cache.py
`user_for_token`, issue 12): no query on a warm request, and stale for not one request
after any change to the user.

Each test warms the cache with a request, changes the user through the API (or the
service where the API has no route for it), and checks the very next request with the
token issued before the change."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.rbac.services import role_create, role_update, user_set_flags, user_set_roles
from apps.users.models import User
from apps.users.services import user_revoke_tokens
from tests.conftest import PASSWORD
from tests.factories import roles

__all__ = ["roles"]  # fixtures

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me"


def user_row_queries(captured: CaptureQueriesContext) -> list[str]:
    """The queries that read the users table as their outermost table."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if (found := re.search(r'\bFROM "(\w+)"', q["sql"])) and found.group(1) == "users_user"
    ]


@pytest.fixture
def warm(client_for, make_user):
    """A user and a client whose token's user row is cached."""
    user = make_user(full_name="Before")
    client = client_for(user)
    assert client.get(ME).status_code == 200
    return user, client


def test_a_warm_request_reads_no_user_row(warm):
    _, client = warm
    with CaptureQueriesContext(connection) as captured:
        assert client.get(ME).status_code == 200
    assert user_row_queries(captured) == []


def test_the_cache_holds_no_password_hash(warm):
    user, _ = warm
    cached = cache.get(f"rights:row:{user.pk}")
    assert cached is not None
    assert User.objects.get(pk=user.pk).password not in repr(cached)


def test_a_profile_change_is_seen_by_the_next_request(warm):
    _, client = warm
    assert client.patch(ME, {"full_name": "After"}).json()["full_name"] == "After"
    assert client.get(ME).json()["full_name"] == "After"


def test_deactivation_refuses_the_next_request(warm, client_for, superuser):
    user, client = warm
    answer = client_for(superuser).patch(f"/api/v1/users/{user.pk}", {"is_active": False})
    assert answer.status_code == 200
    assert client.get(ME).status_code == 401


def test_a_password_change_refuses_older_tokens_at_once(warm, client_for):
    user, client = warm
    older = client_for(User.objects.get(pk=user.pk))
    assert older.get(ME).status_code == 200
    # The cached user (no password hash held) still checks the current password.
    answer = client.patch(
        f"{ME}/password", {"current_password": PASSWORD, "new_password": "another-pass-123"}
    )
    assert answer.status_code == 200
    assert older.get(ME).status_code == 401
    assert User.objects.get(pk=user.pk).check_password("another-pass-123")


def test_revoked_tokens_are_refused_at_once(warm):
    # `user_revoke_tokens` writes with `update()`, which sends no signal.
    user, client = warm
    user_revoke_tokens(user=user)
    assert client.get(ME).status_code == 401


def test_a_new_superuser_flag_is_seen_by_the_next_request(warm, superuser):
    # `user_set_flags` writes with `update()`, which sends no signal.
    user, client = warm
    assert client.get("/api/v1/users/").status_code == 403
    user_set_flags(actor=superuser, user=user, is_superuser=True)
    assert client.get("/api/v1/users/").status_code == 200


def test_a_deleted_user_is_refused_at_once(warm, client_for, superuser):
    user, client = warm
    assert client_for(superuser).delete(f"/api/v1/users/{user.pk}").status_code == 200
    assert client.get(ME).status_code == 401


def test_an_evicted_generation_reads_the_row_again(warm):
    user, client = warm
    cache.delete(f"rights:user:{user.pk}")
    with CaptureQueriesContext(connection) as captured:
        assert client.get(ME).status_code == 200
    assert user_row_queries(captured), "read from the database"


def test_a_warm_request_for_me_runs_no_query(warm):
    # The row and the role names come with the rights, from the cache.
    _, client = warm
    with CaptureQueriesContext(connection) as captured:
        assert client.get(ME).status_code == 200
    assert captured.captured_queries == []


def test_role_changes_are_seen_by_the_next_request(warm, roles, superuser, client_for):
    user, client = warm
    assert client.get(ME).json()["roles"] == []
    user_set_roles(actor=superuser, user=user, roles=[roles["member"]])
    assert client.get(ME).json()["roles"] == ["member"]


def test_a_renamed_role_is_seen_by_the_next_request(warm, superuser):
    user, client = warm
    role = role_create(actor=None, name="readers", permissions=[])
    user_set_roles(actor=superuser, user=user, roles=[role])
    assert client.get(ME).json()["roles"] == ["readers"]
    role_update(actor=superuser, role=role, name="watchers")
    assert client.get(ME).json()["roles"] == ["watchers"]
    role.name = "lookers"
    role.save()  # a save outside the services (the admin, a shell)
    assert client.get(ME).json()["roles"] == ["lookers"]
    role.delete()
    assert client.get(ME).json()["roles"] == []


def test_a_column_missing_from_a_cached_row_is_read_from_the_database(warm):
    # As after a deploy that added a column: the row cached before lacks it.
    user, client = warm
    key = f"rights:row:{user.pk}"
    generation, columns, digest = cache.get(key)
    del columns["full_name"]
    cache.set(key, (generation, columns, digest))
    assert client.get(ME).json()["full_name"] == "Before"
