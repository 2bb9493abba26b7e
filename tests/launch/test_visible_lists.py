"""Lists of rows seen through ownership and grants read their page from a window (the
first `skip + limit` owned rows plus the shared ones) and count up to a bound
(launch/permissions.py `visible_page`, `visible_count`; launch/api/pagination.py).

Each test compares the API's answer with the plain definition: every row the user owns
or holds `view` on (itself or through a role), filtered and in the list's order."""

from __future__ import annotations

import itertools

import pytest

from apps.chat.services import conversation_create
from apps.items.models import Item
from apps.rbac.services import share_set
from launch.permissions import VISIBLE_COUNT
from tests.factories import Lab, create_item, lab, make_member, member, roles, stranger

__all__ = ["lab", "make_member", "member", "roles", "stranger"]  # fixtures

pytestmark = pytest.mark.django_db


# Everyone works in one team whose role adds nothing to the grants (tests/factories.py
# `Lab`): the windows under test are the grants' (a team role's list is the team's).
@pytest.fixture
def make_user(make_user, lab: Lab):
    return lambda *args, **kwargs: lab.join(make_user(*args, **kwargs))


@pytest.fixture
def superuser(superuser, lab: Lab):
    return lab.join(superuser)


ITEMS = "/api/v1/items/"
CONVERSATIONS = "/api/v1/chat/conversations"


@pytest.fixture
def mixed(member, stranger, roles):
    """`member` owns some items and sees others through its own share and its role's,
    created interleaved so owned and shared rows alternate in every order; one owned
    item is also shared with its role (seen once, not twice)."""
    visible = []
    for i in range(6):
        visible.append(create_item(owner=member, title=f"own {i % 3} {i}"))
        theirs = create_item(owner=stranger, title=f"theirs {i % 2} {i}")
        if i % 3 == 0:
            share_set(actor=stranger, obj=theirs, user=member, actions=["view"])
            visible.append(theirs)
        elif i % 3 == 1:
            share_set(actor=stranger, obj=theirs, role=roles["member"], actions=["view"])
            visible.append(theirs)
        create_item(owner=stranger, title="private")  # never visible to member
    share_set(actor=member, obj=visible[0], role=roles["member"], actions=["view"])
    return visible


def expected(rows, order_by):
    ordered = Item.objects.filter(pk__in=[r.pk for r in rows]).order_by(*order_by)
    return [str(pk) for pk in ordered.values_list("pk", flat=True)]


@pytest.mark.parametrize(
    ("ordering", "order_by"),
    [
        (None, ["-created_at", "id"]),
        ("title", ["title", "id"]),
        ("-title", ["-title", "id"]),
        ("created_at", ["created_at", "id"]),
    ],
)
def test_every_page_is_the_plain_definitions(client_for, member, mixed, ordering, order_by):
    client = client_for(member)
    want = expected(mixed, order_by)
    for skip, limit in itertools.product([0, 1, 3, 7, 12], [1, 2, 5, 100]):
        params = {"skip": skip, "limit": limit, **({"ordering": ordering} if ordering else {})}
        body = client.get(ITEMS, params).json()
        assert [row["id"] for row in body["data"]] == want[skip : skip + limit], params
        assert body["count"] == len(want)


def test_filters_apply_before_the_window(client_for, member, mixed):
    # The newest owned rows do not match: the window must not be cut before the filter.
    client = client_for(member)
    for search in ("own 0", "theirs 1"):
        rows = [r for r in mixed if r.title.startswith(search)]
        assert len(rows) > 1
        body = client.get(ITEMS, {"search": search, "limit": 1}).json()
        assert body["count"] == len(rows)
        assert [row["id"] for row in body["data"]] == expected(rows, ["-created_at", "id"])[:1]


def test_count_is_exact_up_to_the_bound_then_the_bound(client_for, member, settings):
    settings.API_COUNT_EXACT_BEYOND_PAGE = 2
    for _ in range(8):
        create_item(owner=member)
    client = client_for(member)
    assert client.get(ITEMS, {"limit": 2}).json()["count"] == 4  # 0 + 2 + 2: more exist
    assert client.get(ITEMS, {"skip": 3, "limit": 2}).json()["count"] == 7
    assert client.get(ITEMS, {"skip": 4, "limit": 2}).json()["count"] == 8  # exact
    last = client.get(ITEMS, {"skip": 6, "limit": 5}).json()
    assert (last["count"], len(last["data"])) == (8, 2)


def test_shared_rows_count_up_to_the_bound_too(client_for, member, stranger, settings):
    settings.API_COUNT_EXACT_BEYOND_PAGE = 1
    for _ in range(5):
        share_set(actor=stranger, obj=create_item(owner=stranger), user=member, actions=["view"])
    body = client_for(member).get(ITEMS, {"limit": 2}).json()
    assert (body["count"], len(body["data"])) == (3, 2)


def test_a_page_past_the_last_row_still_counts(client_for, member):
    # No row carries the count read with the page: it is counted on its own.
    for _ in range(3):
        create_item(owner=member)
    assert client_for(member).get(ITEMS, {"skip": 10, "limit": 2}).json() == {
        "data": [],
        "count": 3,
    }


def test_the_count_read_with_the_page_is_no_field_of_its_rows(client_for, superuser, member):
    create_item(owner=member)
    for client, url in ((client_for(member), ITEMS), (client_for(superuser), "/api/v1/users/")):
        rows = client.get(url).json()["data"]
        assert rows
        assert all(VISIBLE_COUNT not in row for row in rows)


def test_a_whole_team_list_counts_up_to_the_bound_too(client_for, superuser, member, settings):
    # A superuser (like a team role carrying `view`) lists the team's rows: a team can be
    # large, so its count is bounded like a grant list's.
    settings.API_COUNT_EXACT_BEYOND_PAGE = 1
    for _ in range(5):
        create_item(owner=member)
    assert client_for(superuser).get(ITEMS, {"limit": 2}).json()["count"] == 3


def test_conversation_pages_are_the_plain_definitions(client_for, member, stranger):
    mine = [conversation_create(user=member, title=f"c{i}") for i in range(5)]
    conversation_create(user=stranger, title="theirs")
    want = [str(c.pk) for c in sorted(mine, key=lambda c: (-c.updated_at.timestamp(), str(c.pk)))]
    client = client_for(member)
    for skip, limit in itertools.product([0, 2, 4], [1, 3]):
        body = client.get(CONVERSATIONS, {"skip": skip, "limit": limit}).json()
        assert [row["id"] for row in body] == want[skip : skip + limit]
