"""Phase 2: every object belongs to a team and every read and write is confined to the
current team (`X-Team-ID`, else the default team), docs/teams.md.

Ada belongs to her personal team and to Acme (as a member); each test puts objects in
both and checks that each team sees its own only."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from apps.items.services import item_create
from apps.tags.services import tag_create
from apps.teams.models import Membership, Team
from apps.teams.services import member_set_role
from apps.users.models import User
from tests.projects.conftest import create_project, ingest
from tests.teams.conftest import role_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(account) -> User:
    return account(full_name="Ada")


@pytest.fixture
def personal(ada) -> Team:
    return Team.objects.get(owner=ada, is_personal=True)


@pytest.fixture
def acme(team, ada, join) -> Team:
    join(team, ada, "member")
    return team


def ids(body: Any) -> set[str]:
    rows = body["data"] if isinstance(body, dict) else body
    return {row["id"] for row in rows}


def test_items_tags_and_projects_are_listed_and_read_in_their_team_only(
    client_for, ada, personal, acme
):
    mine = item_create(user=ada, title="mine", team=personal)
    theirs = item_create(user=ada, title="acme's", team=acme)
    tag_mine, tag_acme = (
        tag_create(user=ada, name="a", team=personal),
        tag_create(user=ada, name="b", team=acme),
    )
    p_mine, p_acme = create_project(owner=ada, team=personal), create_project(owner=ada, team=acme)
    default, in_acme = client_for(ada), client_for(ada, team=acme)
    for url, here, there in (
        ("/api/v1/items/", mine, theirs),
        ("/api/v1/tags/", tag_mine, tag_acme),
        ("/api/v1/projects", p_mine, p_acme),
    ):
        assert ids(default.get(url).json()) == {str(here.pk)}
        assert default.get(url).json()["count"] == 1
        assert ids(in_acme.get(url).json()) == {str(there.pk)}
        assert default.get(f"{url.rstrip('/')}/{there.pk}").status_code == 404
        assert in_acme.get(f"{url.rstrip('/')}/{there.pk}").status_code == 200
        assert in_acme.get(f"{url.rstrip('/')}/{here.pk}").status_code == 404
        # The shares listing of a row of another team is a 404 too.
        assert default.get(f"{url.rstrip('/')}/{there.pk}/shares").status_code == 404
        assert in_acme.get(f"{url.rstrip('/')}/{there.pk}/shares").status_code == 200


def test_creating_puts_the_object_in_the_current_team(client_for, ada, personal, acme):
    made = client_for(ada, team=acme).post("/api/v1/items/", {"title": "t"}).json()
    assert str(acme.items.get().pk) == made["id"]
    client_for(ada).post("/api/v1/projects", {"name": "p"}, format="json")
    assert personal.projects.count() == 1
    assert not acme.projects.exists()


def test_a_tag_of_another_team_cannot_be_attached(client_for, ada, personal, acme):
    tag = tag_create(user=ada, name="elsewhere", team=personal)
    response = client_for(ada, team=acme).post(
        "/api/v1/items/", {"title": "t", "tag_ids": [str(tag.pk)]}, format="json"
    )
    assert response.status_code == 422


def test_documents_search_and_conversations_stay_in_their_team(client_for, ada, personal, acme):
    doc_mine = ingest(project=create_project(owner=ada, team=personal))
    doc_acme = ingest(project=create_project(owner=ada, team=acme))
    default, in_acme = client_for(ada), client_for(ada, team=acme)
    assert default.get(f"/api/v1/documents/{doc_acme.pk}").status_code == 404
    assert in_acme.get(f"/api/v1/documents/{doc_acme.pk}").status_code == 200
    assert in_acme.get(f"/api/v1/documents/{doc_mine.pk}").status_code == 404

    search = {"query": "lighthouse tide"}
    hits = default.post("/api/v1/search", search, format="json").json()["data"]
    assert {hit["document_id"] for hit in hits} == {str(doc_mine.pk)}
    hits = in_acme.post("/api/v1/search", search, format="json").json()["data"]
    assert {hit["document_id"] for hit in hits} == {str(doc_acme.pk)}
    asked = {"query": "tide", "project_ids": [str(doc_acme.project_id)]}
    assert default.post("/api/v1/search", asked, format="json").status_code == 404

    # A conversation cannot be started in one team on another team's project.
    body = {"title": "q", "project_id": str(doc_acme.project_id)}
    assert default.post("/api/v1/chat/conversations", body, format="json").status_code == 404
    made = in_acme.post("/api/v1/chat/conversations", body, format="json")
    assert made.status_code == 201
    assert [c["id"] for c in in_acme.get("/api/v1/chat/conversations").json()] == [
        made.json()["id"]
    ]
    assert default.get("/api/v1/chat/conversations").json() == []
    assert default.get(f"/api/v1/chat/conversations/{made.json()['id']}/detail").status_code == 404


@pytest.mark.parametrize("value", ["not-a-uuid", str(uuid.uuid4()), "other"])
def test_a_bad_team_header_is_a_404_naming_nothing(client_for, ada, account, value):
    if value == "other":
        value = str(Team.objects.get(owner=account(), is_personal=True).pk)  # not Ada's
    client = client_for(ada, team=value)
    for url in ("/api/v1/items/", "/api/v1/projects", "/api/v1/chat/conversations"):
        response = client.get(url)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}
    assert client.post("/api/v1/search", {"query": "x"}, format="json").status_code == 404


def test_team_roles_decide_what_members_may_do(client_for, owner, team, account, join):
    item = item_create(user=owner, title="shared work", team=team)
    viewer, member, guest = account(), account(), account()
    join(team, viewer, "viewer")
    join(team, member, "member")
    join(team, guest, "guest")
    url, detail = "/api/v1/items/", f"/api/v1/items/{item.pk}"

    as_viewer = client_for(viewer, team=team)
    assert ids(as_viewer.get(url).json()) == {str(item.pk)}
    assert as_viewer.post(url, {"title": "no"}).status_code == 403
    assert as_viewer.patch(detail, {"title": "no"}).status_code == 403

    as_member = client_for(member, team=team)
    assert as_member.post(url, {"title": "yes"}).status_code == 201
    assert as_member.patch(detail, {"title": "changed"}).status_code == 200

    as_guest = client_for(guest, team=team)
    assert as_guest.get(url).json() == {"data": [], "count": 0}
    assert as_guest.get(detail).status_code == 404
    assert as_guest.post(url, {"title": "no"}).status_code == 403
    shares = f"{detail}/shares"
    given = client_for(owner, team=team).put(
        shares, {"user_id": str(guest.pk), "permissions": ["view"]}, format="json"
    )
    assert given.status_code == 200
    assert ids(as_guest.get(url).json()) == {str(item.pk)}
    assert as_guest.patch(detail, {"title": "no"}).status_code == 403


def test_sharing_with_someone_outside_the_team_is_a_422(client_for, owner, team, account):
    item = item_create(user=owner, title="inside", team=team)
    outsider = account()
    response = client_for(owner, team=team).put(
        f"/api/v1/items/{item.pk}/shares",
        {"user_id": str(outsider.pk), "permissions": ["view"]},
        format="json",
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "user_id"]


def test_a_grant_on_another_teams_object_shows_nothing_outside_it(
    client_for, owner, team, account, join
):
    from launch.permissions import share_with_user

    item = item_create(user=owner, title="inside", team=team)
    former = account()
    join(team, former, "guest")
    share_with_user(item, former, ["view"])
    assert client_for(former, team=team).get(f"/api/v1/items/{item.pk}").status_code == 200
    # Its own team never shows the row, grant or not.
    assert client_for(former).get(f"/api/v1/items/{item.pk}").status_code == 404
    assert client_for(former).get("/api/v1/items/").json()["count"] == 0


def test_a_role_change_takes_effect_at_once(client_for, owner, team, account, join):
    """Team roles are part of the cached rights: changing one replaces the member's
    cached entry (apps/teams/apps.py), so the next request sees the new role."""
    item = item_create(user=owner, title="x", team=team)
    colleague = account()
    join(team, colleague, "member")
    client = client_for(colleague, team=team)
    assert client.get(f"/api/v1/items/{item.pk}").status_code == 200  # cached now
    member_set_role(
        actor=owner,
        team=team,
        membership=Membership.objects.get(team=team, user=colleague),
        role=role_of(team, "guest"),
    )
    assert client.get(f"/api/v1/items/{item.pk}").status_code == 404
    Membership.objects.get(team=team, user=colleague).delete()
    assert client.get("/api/v1/items/").status_code == 404  # no longer a member: no team


def test_a_client_without_the_header_works_in_its_personal_team(client_for, ada, personal):
    created = client_for(ada).post("/api/v1/items/", {"title": "upstream"})
    assert created.status_code == 201
    assert str(personal.items.get().pk) == created.json()["id"]


def test_a_team_roles_list_costs_the_same_few_queries(
    client_for, team, account, join, django_assert_max_num_queries
):
    """A member's "view all" list reads the team's index: the token's user and the page
    (the rights and the team come from the cache), however many rows the team holds."""
    colleague = account()
    join(team, colleague, "viewer")
    for index in range(30):
        item_create(user=team.owner, title=f"row {index}", team=team)
    client = client_for(colleague, team=team)
    client.get("/api/v1/items/?limit=5")  # warm the rights cache
    with django_assert_max_num_queries(3):
        body = client.get("/api/v1/items/?limit=5").json()
    assert (len(body["data"]), body["count"]) == (5, 30)
