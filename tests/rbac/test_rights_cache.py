"""Cached permission sets (launch/rights_cache.py): used across requests, and stale for
not one request after any change of rights.

Each test warms the cache with a request, changes a right through the API (or the
service where the API has no route for it), and checks the very next request."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.rbac.services import role_create, user_set_permissions, user_set_roles
from apps.users.models import User
from launch.rights_cache import rights_of
from tests.factories import create_item

pytestmark = pytest.mark.django_db

ITEMS = "/api/v1/items/"
ROLES = "/api/v1/roles/"


@pytest.fixture
def readers():
    """A role whose only right is to use the items endpoints for reading."""
    return role_create(actor=None, name="readers", permissions=["items.view_item"])


@pytest.fixture
def reader(make_user, readers):
    user = make_user()
    user_set_roles(actor=None, user=user, roles=[readers])
    return user


def permission_queries(captured: CaptureQueriesContext) -> list[str]:
    """The queries that read a user's permissions or roles (their outermost table)."""
    tables = {"auth_permission", "users_user_groups", "users_user_user_permissions"}
    return [
        q["sql"]
        for q in captured.captured_queries
        if (found := re.search(r'\bFROM "(\w+)"', q["sql"])) and found.group(1) in tables
    ]


def test_a_warm_request_reads_no_permission_or_role_rows(client_for, reader):
    client = client_for(reader)
    assert client.get(ITEMS).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(ITEMS).status_code == 200
    assert permission_queries(captured) == []


def test_an_evicted_generation_is_never_taken_for_the_old_one(reader):
    first = rights_of(User.objects.get(pk=reader.pk))
    cache.delete(f"rights:user:{reader.pk}")
    with CaptureQueriesContext(connection) as captured:
        again = rights_of(User.objects.get(pk=reader.pk))
    assert permission_queries(captured), "recomputed from the database"
    assert again == first


def test_the_generation_is_replaced_again_on_commit(
    reader, roles, django_capture_on_commit_callbacks
):
    key = f"rights:user:{reader.pk}"
    rights_of(User.objects.get(pk=reader.pk))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        user_set_roles(actor=None, user=reader, roles=[roles["viewer"]])
    at_once = cache.get(key)
    assert at_once is not None
    for callback in callbacks:
        callback()
    assert cache.get(key) not in (None, at_once)


# --- the very next request sees the change ------------------------------------------------


def test_role_losing_and_gaining_a_permission(client_for, superuser, reader, readers):
    client, admin = client_for(reader), client_for(superuser)
    assert client.get(ITEMS).status_code == 200
    assert admin.patch(f"{ROLES}{readers.pk}", {"permissions": []}).status_code == 200
    assert client.get(ITEMS).status_code == 403
    regained = admin.patch(f"{ROLES}{readers.pk}", {"permissions": ["items.view_item"]})
    assert regained.status_code == 200
    assert client.get(ITEMS).status_code == 200


def test_role_deleted(client_for, superuser, reader, readers):
    client = client_for(reader)
    assert client.get(ITEMS).status_code == 200
    assert client_for(superuser).delete(f"{ROLES}{readers.pk}").status_code == 200
    assert client.get(ITEMS).status_code == 403


def test_user_removed_from_and_added_to_a_role(client_for, superuser, reader, readers):
    client, admin = client_for(reader), client_for(superuser)
    members = f"{ROLES}{readers.pk}/members"
    assert client.get(ITEMS).status_code == 200
    assert admin.delete(f"{members}/{reader.pk}").status_code == 200
    assert client.get(ITEMS).status_code == 403
    assert admin.post(members, {"user_id": str(reader.pk)}).status_code == 201
    assert client.get(ITEMS).status_code == 200


def test_user_own_permissions_given_and_taken(client_for, make_user):
    from django.contrib.auth.models import Permission

    user = make_user()
    client = client_for(user)
    assert client.get(ITEMS).status_code == 403
    view = Permission.objects.get(codename="view_item")
    user_set_permissions(actor=None, user=User.objects.get(pk=user.pk), permissions=[view])
    assert client.get(ITEMS).status_code == 200
    user_set_permissions(actor=None, user=User.objects.get(pk=user.pk), permissions=[])
    assert client.get(ITEMS).status_code == 403


def test_share_granted_and_revoked(client_for, member, stranger):
    item = create_item(owner=member)
    shares, detail = f"{ITEMS}{item.pk}/shares", f"{ITEMS}{item.pk}"
    client, owner = client_for(stranger), client_for(member)
    assert client.get(detail).status_code == 404
    assert client.get(ITEMS).json()["count"] == 0
    owner.put(shares, {"user_id": str(stranger.pk), "permissions": ["view"]})
    assert client.get(detail).status_code == 200
    assert client.get(ITEMS).json()["count"] == 1
    owner.put(shares, {"user_id": str(stranger.pk), "permissions": []})
    assert client.get(detail).status_code == 404
    assert client.get(ITEMS).json()["count"] == 0


def test_role_share_follows_the_membership(client_for, superuser, member, reader, readers):
    item = create_item(owner=member)
    detail = f"{ITEMS}{item.pk}"
    client_for(member).put(f"{detail}/shares", {"role_id": readers.pk, "permissions": ["view"]})
    client = client_for(reader)
    assert client.get(detail).status_code == 200
    client_for(superuser).delete(f"{ROLES}{readers.pk}/members/{reader.pk}")
    # The role ids are cached with the permissions: losing the role loses its grants.
    # (The same model permission, held directly, keeps the endpoint open, so the 404
    # below is the row's grant and not the model layer's 403.)
    user_set_permissions(
        actor=None,
        user=User.objects.get(pk=reader.pk),
        permissions=list(readers.permissions.all()),
    )
    assert client.get(detail).status_code == 404


def test_user_deactivated(client_for, superuser, reader):
    client = client_for(reader)
    assert client.get(ITEMS).status_code == 200
    assert client_for(superuser).patch(f"/api/v1/users/{reader.pk}", {"is_active": False})
    assert client.get(ITEMS).status_code == 401


def test_superuser_flag_taken(client_for, superuser, make_user):
    other = User.objects.create_superuser(email="second-root@example.com", password="x" * 12)
    client = client_for(other)
    assert client.get(ROLES).status_code == 200
    assert client_for(superuser).patch(f"/api/v1/users/{other.pk}", {"is_superuser": False})
    assert client.get(ROLES).status_code == 403


def test_the_cache_being_down_falls_back_to_the_database(client_for, reader, settings):
    # A Redis cache on a port where nothing listens: every cache call fails.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
        }
    }
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_CLASSES": []}
    assert client_for(reader).get(ITEMS).status_code == 200


def test_without_a_shared_cache_every_request_reads_rights_afresh(client_for, reader, settings):
    """RIGHTS_CACHE off (the default with a per-process cache): nothing is kept between
    requests, so even a change no service announced is seen by the next request."""
    settings.RIGHTS_CACHE = False
    client = client_for(reader)
    assert client.get(ITEMS).status_code == 200
    reader.groups.clear()  # behind the services' back: no generation is replaced
    assert client.get(ITEMS).status_code == 403
    with CaptureQueriesContext(connection) as captured:
        client.get(ITEMS)
    assert permission_queries(captured) != []
