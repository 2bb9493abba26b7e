from __future__ import annotations

import uuid

import pytest

from apps.items.models import Item, ItemGroupObjectPermission, ItemUserObjectPermission
from apps.rbac.services import role_remove_member
from launch.permissions import share_with_role
from tests.factories import create_item, create_tag, join_team, share_in_team

pytestmark = pytest.mark.django_db

URL = "/api/v1/items/"


def detail(item: Item) -> str:
    return f"/api/v1/items/{item.pk}"


@pytest.fixture
def item(member):
    return create_item(owner=member)


# --- permission matrix ---------------------------------------------------------------


@pytest.mark.promise(2)
@pytest.mark.parametrize(
    ("method", "on_item"),
    [
        ("get", False),
        ("post", False),
        ("get", True),
        ("put", True),
        ("patch", True),
        ("delete", True),
    ],
)
def test_anonymous_gets_401_on_every_route(api, item, method, on_item):
    response = getattr(api, method)(detail(item) if on_item else URL, {})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "on_item"),
    [
        ("get", False),
        ("post", False),
        ("get", True),
        ("put", True),
        ("patch", True),
        ("delete", True),
    ],
)
def test_user_without_a_role_gets_403_on_every_route(client_for, roleless, item, method, on_item):
    share_in_team(item, roleless, ["view", "change", "delete"])  # grants alone are not enough
    response = getattr(client_for(roleless), method)(
        detail(item) if on_item else URL, {"title": "x"}
    )
    assert response.status_code == 403


@pytest.mark.promise(2)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_stranger_gets_404_on_another_users_item(client_for, stranger, item, method):
    response = getattr(client_for(stranger), method)(detail(item), {"title": "x"})
    assert response.status_code == 404
    assert Item.objects.filter(pk=item.pk, title=item.title).exists()


@pytest.mark.promise(2)
def test_stranger_never_sees_another_users_items_in_list_or_count(client_for, stranger, member):
    [create_item(owner=member) for _ in range(3)]
    mine = create_item(owner=stranger)
    body = client_for(stranger).get(URL).json()
    assert body["count"] == 1
    assert [row["id"] for row in body["data"]] == [str(mine.pk)]


def test_shared_view_user_can_read_but_not_change_or_delete(client_for, stranger, item):
    share_in_team(item, stranger, ["view"])
    client = client_for(stranger)
    assert client.get(detail(item)).status_code == 200
    assert client.get(URL).json()["count"] == 1
    assert client.patch(detail(item), {"title": "new"}).status_code == 403
    assert client.put(detail(item), {"title": "new"}).status_code == 403
    assert client.delete(detail(item)).status_code == 403
    item.refresh_from_db()
    assert item.title != "new"


def test_shared_change_user_can_patch_but_not_delete(client_for, stranger, item):
    share_in_team(item, stranger, ["change"])
    client = client_for(stranger)
    response = client.patch(detail(item), {"title": "renamed"})
    assert response.status_code == 200
    assert response.json()["title"] == "renamed"
    assert client.delete(detail(item)).status_code == 403


def test_viewer_role_can_read_shared_item_but_not_change_it_even_with_a_change_grant(
    client_for, make_member, item
):
    viewer = make_member(role="viewer")
    share_in_team(item, viewer, ["change"])
    client = client_for(viewer)
    assert client.get(detail(item)).status_code == 200
    assert client.patch(detail(item), {"title": "x"}).status_code == 403
    assert client.post(URL, {"title": "x"}).status_code == 403


@pytest.mark.promise(2)
def test_share_with_a_role_reaches_its_members_until_they_leave_it(
    client_for, make_member, roles, item
):
    colleague = make_member(role="member")
    join_team(colleague, item.team_id, default=True)  # role grants reach inside the team
    share_with_role(item, roles["member"], ["view"])
    client = client_for(colleague)
    assert client.get(detail(item)).status_code == 200
    assert client.get(URL).json()["count"] == 1

    role_remove_member(actor=None, role=roles["member"], user=colleague)
    assert client.get(detail(item)).status_code == 403  # model layer: no role, no items
    assert client.get(URL).status_code == 403


@pytest.mark.promise(2)
def test_model_wide_role_permission_never_widens_the_list(client_for, make_member, member):
    [create_item(owner=member) for _ in range(2)]
    admin_role_holder = make_member(role="admin")  # holds items.view_item and every other
    body = client_for(admin_role_holder).get(URL).json()
    assert body == {"data": [], "count": 0}


def test_superuser_passes_every_route(client_for, superuser, item):
    client = client_for(superuser)
    team = {"headers": {"X-Team-ID": str(item.team_id)}}  # any team, named
    assert client.get(URL, **team).json()["count"] == Item.objects.filter(team=item.team).count()
    assert client.get(detail(item)).status_code == 404  # its own team by default
    assert client.get(detail(item), **team).status_code == 200
    assert client.put(detail(item), {"title": "root"}, **team).status_code == 200
    assert client.patch(detail(item), {"description": None}, **team).status_code == 200
    assert client.delete(detail(item), **team).status_code == 200


@pytest.mark.promise(2)
def test_staff_status_grants_nothing(client_for, make_user, item):
    staff = make_user(is_staff=True)
    assert client_for(staff).get(URL).status_code == 403


# --- contract ------------------------------------------------------------------------


def test_create_returns_201_with_the_contract_fields_and_grants_the_owner(client_for, member):
    response = client_for(member).post(URL, {"title": "Notebook", "description": None})
    assert response.status_code == 201
    body = response.json()
    assert {"id", "title", "description", "owner_id"} <= set(body)
    assert body["owner_id"] == str(member.pk)
    assert body["description"] is None
    assert body["tags"] == []
    codenames = set(
        ItemUserObjectPermission.objects.filter(
            content_object_id=body["id"], user=member
        ).values_list("permission__codename", flat=True)
    )
    assert codenames == {"view_item", "change_item", "delete_item", "share_item"}


@pytest.mark.parametrize(
    "payload",
    [{}, {"title": ""}, {"title": "x" * 256}, {"title": "ok", "description": "d" * 256}],
)
def test_invalid_items_are_422(client_for, member, payload):
    response = client_for(member).post(URL, payload)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


def test_put_is_partial_as_upstream(client_for, member, item):
    response = client_for(member).put(detail(item), {"description": "only this"})
    assert response.status_code == 200
    assert response.json()["title"] == item.title
    assert response.json()["description"] == "only this"


def test_routes_answer_with_and_without_trailing_slash(client_for, member, item):
    client = client_for(member)
    assert client.get("/api/v1/items").status_code == 200
    assert client.get(f"{detail(item)}/").status_code == 200


def test_delete_answers_a_message_and_leaves_no_grant_rows(
    client_for, member, stranger, roles, item
):
    share_in_team(item, stranger, ["view"])
    share_with_role(item, roles["viewer"], ["view"])
    response = client_for(member).delete(detail(item))
    assert response.status_code == 200
    assert response.json() == {"message": "Item deleted successfully"}
    assert not ItemUserObjectPermission.objects.filter(content_object_id=item.pk).exists()
    assert not ItemGroupObjectPermission.objects.filter(content_object_id=item.pk).exists()


def test_unknown_item_is_404(client_for, member):
    assert client_for(member).get(f"/api/v1/items/{uuid.uuid4()}").status_code == 404


# --- tags on items -------------------------------------------------------------------


def test_tag_ids_on_write_and_tags_on_read(client_for, member):
    red, blue = (
        create_tag(created_by=member, name="red"),
        create_tag(created_by=member, name="blue"),
    )
    client = client_for(member)
    created = client.post(URL, {"title": "t", "tag_ids": [str(red.pk)]}).json()
    assert [t["name"] for t in created["tags"]] == ["red"]
    patched = client.patch(f"{URL}{created['id']}", {"tag_ids": [str(blue.pk), str(red.pk)]})
    assert sorted(t["name"] for t in patched.json()["tags"]) == ["blue", "red"]
    cleared = client.patch(f"{URL}{created['id']}", {"tag_ids": []})
    assert cleared.json()["tags"] == []


def test_tags_the_user_cannot_view_are_422_like_unknown_ones(client_for, member, stranger):
    theirs = create_tag(created_by=stranger)
    for tag_id in (theirs.pk, uuid.uuid4()):
        response = client_for(member).post(URL, {"title": "t", "tag_ids": [str(tag_id)]})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "tag_ids"]
    assert not Item.objects.exists()


def test_a_shared_tag_may_be_attached(client_for, member, stranger):
    theirs = create_tag(created_by=stranger)
    share_in_team(theirs, member, ["view"], role="member")
    response = client_for(member).post(URL, {"title": "t", "tag_ids": [str(theirs.pk)]})
    assert response.status_code == 201


# --- search, ordering, tag filter ----------------------------------------------------


def test_search_ordering_and_tag_filter_keep_true_counts(client_for, member):
    red = create_tag(created_by=member, name="red")
    for title in ["apple pie", "banana", "apple tart", "cherry"]:
        create_item(owner=member, title=title, tags=[red] if "apple" in title else [])
    client = client_for(member)

    body = client.get(URL, {"search": "apple", "limit": 1}).json()
    assert body["count"] == 2
    assert len(body["data"]) == 1

    titles = [row["title"] for row in client.get(URL, {"ordering": "title"}).json()["data"]]
    assert titles == sorted(titles)
    titles = [row["title"] for row in client.get(URL, {"ordering": "-title"}).json()["data"]]
    assert titles == sorted(titles, reverse=True)

    body = client.get(URL, {"tag": str(red.pk), "limit": 1}).json()
    assert body["count"] == 2
    assert body["data"][0]["title"].startswith("apple")


def test_a_malformed_tag_filter_is_422_on_the_query(client_for, member):
    response = client_for(member).get(URL, {"tag": "not-a-uuid"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "tag"]


# --- query counts ----------------------------------------------------------------------


@pytest.mark.parametrize(("items", "tags_each"), [(2, 1), (30, 5)])
def test_list_query_count_does_not_grow_with_page_size_or_tags(
    client_for, member, django_assert_max_num_queries, items, tags_each
):
    tags = [create_tag(created_by=member) for _ in range(tags_each)]
    [create_item(owner=member, tags=tags) for _ in range(items)]
    client = client_for(member)
    client.get(URL)  # the user's row and permission set are cached from here on
    # the page with its tags and its count (one statement)
    with django_assert_max_num_queries(1):
        body = client.get(URL, {"limit": 100}).json()
    assert body["count"] == items
    assert all(len(row["tags"]) == tags_each for row in body["data"])


@pytest.fixture
def shared_with_stranger(member, stranger, roles):
    """Items `stranger` sees through its own share and through its role's, with tags;
    one of them it owns."""
    tags = [create_tag(created_by=member) for _ in range(3)]
    through_user = [create_item(owner=member, tags=tags) for _ in range(3)]
    through_role = [create_item(owner=member, tags=tags[:1]) for _ in range(3)]
    for item in through_user:
        share_in_team(item, stranger, ["view", "change"])
    for item in through_role:
        share_with_role(item, roles["member"], ["view"])
    return [*through_user, *through_role, create_item(owner=stranger)]


def test_list_of_shared_items_runs_one_query(
    client_for, stranger, shared_with_stranger, django_assert_max_num_queries
):
    client = client_for(stranger)
    client.get(URL)
    # the page with its tags and its count (the user and its rights are cached)
    with django_assert_max_num_queries(1):
        body = client.get(URL, {"limit": 100}).json()
    assert body["count"] == len(shared_with_stranger)
    assert sorted(len(row["tags"]) for row in body["data"]) == [0, 1, 1, 1, 3, 3, 3]


def test_detail_reads_its_row_actions_and_tags_in_one_query(
    client_for, stranger, shared_with_stranger, django_assert_max_num_queries
):
    client = client_for(stranger)
    client.get(URL)
    for item in shared_with_stranger:
        # the row with the object actions and tags (the user and its rights are cached)
        with django_assert_max_num_queries(1):
            response = client.get(f"{URL}{item.pk}")
        assert response.status_code == 200
        assert len(response.json()["tags"]) == item.tags.count()
    # The actions read with the row still decide: a view-only share cannot change.
    role_only = shared_with_stranger[3]
    assert client.patch(f"{URL}{role_only.pk}", {"title": "x"}).status_code == 403
    assert client.patch(f"{URL}{shared_with_stranger[0].pk}", {"title": "x"}).status_code == 200
