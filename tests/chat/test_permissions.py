"""Every chat route: anonymous, role-less, owner, stranger, project sharee, superuser."""

from __future__ import annotations

import uuid

import pytest

from apps.chat.models import ChatConversation
from tests.chat.conftest import conversation_url, start
from tests.factories import share_in_team

pytestmark = pytest.mark.django_db

# (method, suffix, body); `None` suffix is the collection, "" the conversation itself.
ROUTES = [
    ("get", None, None),
    ("post", None, {"title": "New"}),
    ("get", "/detail", None),
    ("post", "/messages", {"content": "Hi"}),
    ("post", "/messages/stream", {"content": "Hi"}),
    ("patch", "/title", {"title": "Renamed"}),
    ("post", "/generate-title", None),
    ("delete", "", None),
]
ON_CONVERSATION = [route for route in ROUTES if route[1] is not None]


def call(client, conversation, route, **extra):
    method, suffix, body = route
    url = "/api/v1/chat/conversations" if suffix is None else conversation_url(conversation, suffix)
    return getattr(client, method)(url, body or {}, **extra)


def in_team_of(obj):
    """Request options naming `obj`'s team (a superuser works in its own by default)."""
    return {"headers": {"X-Team-ID": str(obj.team_id)}}


@pytest.mark.promise(2)
@pytest.mark.parametrize("route", ROUTES)
def test_anonymous_gets_401(api, conversation, route):
    assert call(api, conversation, route).status_code == 401


@pytest.mark.parametrize("route", ROUTES)
def test_a_user_without_a_role_gets_403(client_for, roleless, route):
    conversation = start(roleless)  # even on a conversation of their own
    assert call(client_for(roleless), conversation, route).status_code == 403


@pytest.mark.promise(2)
@pytest.mark.parametrize("route", ON_CONVERSATION)
def test_a_stranger_gets_404_and_changes_nothing(client_for, stranger, conversation, route):
    response = call(client_for(stranger), conversation, route)
    assert response.status_code == 404
    conversation.refresh_from_db()
    assert conversation.title == "Questions"
    assert not conversation.messages.exists()


@pytest.mark.promise(2)
@pytest.mark.parametrize("route", ON_CONVERSATION)
def test_sharing_the_project_does_not_share_the_conversation(
    client_for, stranger, conversation, route
):
    share_in_team(conversation.project, stranger, ["view", "change"])
    response = call(client_for(stranger), conversation, route)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("route", "expected"),
    list(zip(ROUTES, [200, 201, 200, 201, 200, 200, 200, 200], strict=True)),
)
def test_owner_and_superuser_may_use_every_route(client_for, member, superuser, route, expected):
    conversation = start(member)
    for user in (member, superuser):
        target = conversation if route[0] != "delete" else start(member)
        response = call(client_for(user), target, route, **in_team_of(target))
        assert response.status_code == expected, (user, response.content[:200])


@pytest.mark.promise(2)
def test_lists_hold_only_your_own_conversations(client_for, member, stranger, superuser, project):
    mine = start(member, project)
    theirs = start(stranger)
    own = client_for(member).get("/api/v1/chat/conversations").json()
    assert [row["id"] for row in own] == [str(mine.pk)]
    # A superuser sees every conversation of the team it names, and only that team's.
    superuser_client = client_for(superuser)
    everything = superuser_client.get("/api/v1/chat/conversations", **in_team_of(mine)).json()
    assert {row["id"] for row in everything} == {str(mine.pk)}
    everything = superuser_client.get("/api/v1/chat/conversations", **in_team_of(theirs)).json()
    assert {row["id"] for row in everything} == {str(theirs.pk)}


@pytest.mark.promise(2)
def test_project_conversations_need_a_project_you_may_view(client_for, member, stranger, project):
    start(member, project)
    url = f"/api/v1/chat/conversations/{project.pk}"
    assert client_for(stranger).get(url).status_code == 404
    assert client_for(stranger).get(f"/api/v1/chat/conversations/{uuid.uuid4()}").status_code == 404
    share_in_team(project, stranger, ["view"])
    assert client_for(stranger).get(url).json() == []  # the owner's conversation stays private
    assert len(client_for(member).get(url).json()) == 1


@pytest.mark.promise(2)
def test_creating_on_a_project_you_cannot_view_is_404(client_for, stranger, project):
    response = client_for(stranger).post(
        "/api/v1/chat/conversations", {"title": "Snoop", "project_id": str(project.pk)}
    )
    assert response.status_code == 404
    assert not ChatConversation.objects.filter(user=stranger).exists()


def test_creating_on_a_shared_project_works(client_for, stranger, project):
    # Starting a conversation in a team takes a team role carrying `add` (not a guest's).
    share_in_team(project, stranger, ["view"], role="member")
    response = client_for(stranger).post(
        "/api/v1/chat/conversations", {"title": "Shared", "project_id": str(project.pk)}
    )
    assert response.status_code == 201
    assert response.json()["project_id"] == str(project.pk)
