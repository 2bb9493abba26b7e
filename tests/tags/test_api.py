from __future__ import annotations

import pytest

from apps.items.models import Item
from apps.tags.models import Tag, TagGroupObjectPermission, TagUserObjectPermission
from launch.permissions import share_with_role
from tests.factories import create_item, create_tag, join_team, share_in_team

pytestmark = pytest.mark.django_db

URL = "/api/v1/tags/"


def detail(tag: Tag) -> str:
    return f"/api/v1/tags/{tag.pk}"


@pytest.fixture
def tag(member):
    return create_tag(created_by=member, name="urgent")


ROUTES = [
    ("get", False),
    ("post", False),
    ("get", True),
    ("put", True),
    ("patch", True),
    ("delete", True),
]


@pytest.mark.parametrize(("method", "on_tag"), ROUTES)
def test_anonymous_gets_401(api, tag, method, on_tag):
    assert getattr(api, method)(detail(tag) if on_tag else URL, {}).status_code == 401


@pytest.mark.parametrize(("method", "on_tag"), ROUTES)
def test_user_without_a_role_gets_403(client_for, roleless, tag, method, on_tag):
    share_in_team(tag, roleless, ["view", "change", "delete"])
    response = getattr(client_for(roleless), method)(detail(tag) if on_tag else URL, {"name": "n"})
    assert response.status_code == 403


@pytest.mark.promise(2)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_stranger_gets_404(client_for, stranger, tag, method):
    assert getattr(client_for(stranger), method)(detail(tag), {"name": "n"}).status_code == 404


@pytest.mark.promise(2)
def test_stranger_never_sees_another_users_tags_in_list_or_count(client_for, stranger, tag):
    body = client_for(stranger).get(URL).json()
    assert body == {"data": [], "count": 0}


def test_shared_view_reads_shared_change_patches(client_for, make_member, tag):
    viewer, editor = make_member(), make_member()
    share_in_team(tag, viewer, ["view"])
    share_in_team(tag, editor, ["change"])
    assert client_for(viewer).get(detail(tag)).status_code == 200
    assert client_for(viewer).patch(detail(tag), {"color": "#000000"}).status_code == 403
    assert client_for(viewer).delete(detail(tag)).status_code == 403
    assert client_for(editor).patch(detail(tag), {"color": "#000000"}).status_code == 200
    assert client_for(editor).delete(detail(tag)).status_code == 403


def test_role_share_reaches_members(client_for, make_member, roles, tag):
    share_with_role(tag, roles["viewer"], ["view"])
    viewer = make_member(role="viewer")
    join_team(viewer, tag.team_id, default=True)  # role grants reach inside the team
    assert client_for(viewer).get(URL).json()["count"] == 1
    assert client_for(viewer).post(URL, {"name": "mine"}).status_code == 403


def test_superuser_passes(client_for, superuser, tag):
    client = client_for(superuser)
    team = {"headers": {"X-Team-ID": str(tag.team_id)}}
    assert client.get(detail(tag), **team).status_code == 200
    assert client.patch(detail(tag), {"name": "renamed"}, **team).status_code == 200
    assert client.delete(detail(tag), **team).status_code == 200


def test_create_defaults_the_colour_and_reports_the_creator(client_for, member):
    response = client_for(member).post(URL, {"name": "home"})
    assert response.status_code == 201
    body = response.json()
    assert body["color"] == "#6366f1"
    assert body["created_by_id"] == str(member.pk)
    assert {"id", "name", "created_at"} <= set(body)


@pytest.mark.parametrize(
    "payload",
    [
        {"name": ""},
        {"name": "x" * 51},
        {"name": "ok", "color": "red"},
        {"name": "ok", "color": "#12345g"},
    ],
)
def test_invalid_tags_are_422(client_for, member, payload):
    assert client_for(member).post(URL, payload).status_code == 422


def test_duplicate_name_is_409_case_insensitively(client_for, member, tag):
    client = client_for(member)
    response = client.post(URL, {"name": "URGENT"})
    assert response.status_code == 409
    other = client.post(URL, {"name": "later"}).json()
    assert client.patch(f"{URL}{other['id']}", {"name": "Urgent"}).status_code == 409


@pytest.mark.promise(2)
def test_another_users_names_neither_block_nor_show(client_for, stranger, tag):
    response = client_for(stranger).post(URL, {"name": tag.name})
    assert response.status_code == 201
    assert client_for(stranger).get(URL).json()["count"] == 1


def test_deleting_a_tag_detaches_it_and_removes_its_grants(
    client_for, member, stranger, roles, tag
):
    item = create_item(owner=member, tags=[tag])
    share_in_team(tag, stranger, ["view"])
    share_with_role(tag, roles["member"], ["view"])
    assert client_for(member).delete(detail(tag)).json() == {"message": "Tag deleted successfully"}
    assert Item.objects.get(pk=item.pk).tags.count() == 0
    assert not TagUserObjectPermission.objects.filter(content_object_id=tag.pk).exists()
    assert not TagGroupObjectPermission.objects.filter(content_object_id=tag.pk).exists()


def test_search_and_ordering(client_for, member):
    for name in ["beta", "alpha", "alpine"]:
        create_tag(created_by=member, name=name)
    client = client_for(member)
    assert client.get(URL, {"search": "alp"}).json()["count"] == 2
    names = [row["name"] for row in client.get(URL, {"ordering": "-name"}).json()["data"]]
    assert names == ["beta", "alpine", "alpha"]


def test_list_query_count_does_not_grow_with_page_size(
    client_for, member, django_assert_max_num_queries
):
    for n in range(25):
        create_tag(created_by=member, name=f"t{n}")
    client = client_for(member)
    # user, role permissions (2), role ids, count, page
    with django_assert_max_num_queries(6):
        assert client.get(URL, {"limit": 100}).json()["count"] == 25


def test_admin_refuses_a_duplicate_name_with_a_form_error(superuser, tag):
    from django.test import Client

    from tests.conftest import PASSWORD

    browser = Client()
    browser.login(username=superuser.email, password=PASSWORD)
    browser.post("/admin/tags/tag/add/", {"name": "mine", "color": "#000000"})
    response = browser.post("/admin/tags/tag/add/", {"name": "MINE", "color": "#000000"})
    assert response.status_code == 200
    assert "You already have a tag with this name." in response.content.decode()
    assert Tag.objects.filter(created_by=superuser).count() == 1
    assert tag.name != "mine"
