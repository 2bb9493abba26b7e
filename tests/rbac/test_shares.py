"""`GET, PUT /{resource}/{id}/shares` for every shareable resource."""

from __future__ import annotations

import uuid

import pytest

from launch.permissions import perm_models, share_with_user
from tests.factories import create_item, create_tag

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["items", "tags"])
def resource(request, member):
    """(row, its shares URL, its detail URL) for each shareable resource."""
    row = create_item(owner=member) if request.param == "items" else create_tag(created_by=member)
    base = f"/api/v1/{request.param}/{row.pk}"
    return row, f"{base}/shares", base


def grant_rows(row):
    user_model, group_model = perm_models(type(row))
    return (
        user_model.objects.filter(content_object_id=row.pk).count()
        + group_model.objects.filter(content_object_id=row.pk).count()
    )


def test_owner_lists_the_grants(client_for, member, resource):
    _, url, _ = resource
    body = client_for(member).get(url).json()
    assert body == {
        "data": [{"user_id": str(member.pk), "permissions": ["view", "change", "delete", "share"]}],
        "count": 1,
    }


@pytest.mark.promise(2)
def test_sharing_view_lets_the_other_user_read_exactly_that(client_for, member, stranger, resource):
    _, url, detail = resource
    response = client_for(member).put(url, {"user_id": str(stranger.pk), "permissions": ["view"]})
    assert response.status_code == 200
    assert response.json() == {"user_id": str(stranger.pk), "permissions": ["view"]}
    assert client_for(stranger).get(detail).status_code == 200
    assert client_for(stranger).delete(detail).status_code == 403


def test_change_and_delete_imply_view(client_for, member, stranger, resource):
    _, url, detail = resource
    body = (
        client_for(member).put(url, {"user_id": str(stranger.pk), "permissions": ["delete"]}).json()
    )
    assert body["permissions"] == ["view", "delete"]
    assert client_for(stranger).delete(detail).status_code == 200


@pytest.mark.promise(2)
def test_an_empty_list_revokes_and_leaves_no_grant_rows(
    client_for, member, stranger, roles, resource
):
    row, url, detail = resource
    client = client_for(member)
    client.put(url, {"user_id": str(stranger.pk), "permissions": ["view", "change"]})
    client.put(url, {"role_id": roles["viewer"].pk, "permissions": ["view"]})
    assert grant_rows(row) == 4 + 2 + 1

    assert (
        client.put(url, {"user_id": str(stranger.pk), "permissions": []}).json()["permissions"]
        == []
    )
    assert client.put(url, {"role_id": roles["viewer"].pk, "permissions": []}).status_code == 200
    assert grant_rows(row) == 4  # only the owner's
    assert client_for(stranger).get(detail).status_code == 404


@pytest.mark.promise(2)
def test_sharing_with_a_role(client_for, member, make_member, roles, resource):
    _, url, detail = resource
    viewer = make_member(role="viewer")
    body = (
        client_for(member).put(url, {"role_id": roles["viewer"].pk, "permissions": ["view"]}).json()
    )
    assert body == {"role_id": roles["viewer"].pk, "permissions": ["view"]}
    assert client_for(viewer).get(detail).status_code == 200
    listed = client_for(member).get(url).json()
    assert {"role_id": roles["viewer"].pk, "permissions": ["view"]} in listed["data"]


def test_sharing_with_yourself_is_a_no_op(client_for, member, resource):
    row, url, _ = resource
    response = client_for(member).put(url, {"user_id": str(member.pk), "permissions": []})
    assert response.status_code == 200
    assert response.json()["permissions"] == ["view", "change", "delete", "share"]
    assert grant_rows(row) == 4


def test_a_co_sharer_cannot_strip_the_owner(client_for, member, stranger, resource):
    row, url, _ = resource
    share_with_user(row, stranger, ["share"])
    response = client_for(stranger).put(url, {"user_id": str(member.pk), "permissions": []})
    assert response.status_code == 422
    assert grant_rows(row) == 4 + 2


@pytest.mark.parametrize(
    "payload",
    [
        {"user_id": str(uuid.uuid4()), "permissions": ["view"]},
        {"role_id": 987654, "permissions": ["view"]},
        {"permissions": ["view"]},
        {"user_id": "not-a-uuid", "permissions": ["view"]},
        {"role_id": 1, "user_id": str(uuid.uuid4()), "permissions": ["view"]},
    ],
)
def test_unknown_or_ambiguous_principals_are_422(client_for, member, resource, payload):
    _, url, _ = resource
    assert client_for(member).put(url, payload).status_code == 422


def test_unknown_permission_names_are_422(client_for, member, stranger, resource):
    _, url, _ = resource
    payload = {"user_id": str(stranger.pk), "permissions": ["own"]}
    assert client_for(member).put(url, payload).status_code == 422


# --- matrix ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "put"])
def test_anonymous_gets_401(api, resource, method):
    _, url, _ = resource
    assert getattr(api, method)(url, {}).status_code == 401


@pytest.mark.promise(2)
@pytest.mark.parametrize("method", ["get", "put"])
def test_stranger_gets_404(client_for, stranger, resource, method):
    _, url, _ = resource
    payload = {"user_id": str(stranger.pk), "permissions": ["view"]}
    assert getattr(client_for(stranger), method)(url, payload).status_code == 404


@pytest.mark.parametrize("method", ["get", "put"])
def test_viewer_of_the_row_without_share_gets_403(client_for, stranger, resource, method):
    row, url, _ = resource
    share_with_user(row, stranger, ["view", "change", "delete"])
    payload = {"user_id": str(stranger.pk), "permissions": ["view"]}
    assert getattr(client_for(stranger), method)(url, payload).status_code == 403


def test_share_grant_lets_a_member_reshare(client_for, stranger, make_member, resource):
    row, url, _ = resource
    third = make_member()
    share_with_user(row, stranger, ["share"])
    payload = {"user_id": str(third.pk), "permissions": ["view"]}
    assert client_for(stranger).put(url, payload).status_code == 200


def test_role_without_share_permission_gets_403_even_as_owner(client_for, make_member, stranger):
    viewer = make_member(role="viewer")
    row = create_item(owner=viewer)
    url = f"/api/v1/items/{row.pk}/shares"
    assert client_for(viewer).get(url).status_code == 403


def test_superuser_may_share_anything(client_for, superuser, stranger, resource):
    _, url, _ = resource
    payload = {"user_id": str(stranger.pk), "permissions": ["view"]}
    assert client_for(superuser).put(url, payload).status_code == 200
    assert client_for(superuser).get(url).json()["count"] == 2
