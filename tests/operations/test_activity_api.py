"""GET /api/v1/activity: superusers only, `{data, count}`, filters."""

from __future__ import annotations

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from tests.factories import create_item, create_tag

pytestmark = pytest.mark.django_db
URL = "/api/v1/activity"


def test_anonymous_gets_401(api):
    assert api.get(URL).status_code == 401


def test_member_and_staff_get_403(client_for, member, make_user):
    assert client_for(member).get(URL).status_code == 403
    staff = make_user(is_staff=True)
    assert client_for(staff).get(f"{URL}/").status_code == 403


def test_superuser_lists_entries_newest_first(client_for, superuser, member):
    item = create_item(owner=member, title="Listed")
    response = client_for(superuser).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == LogEntry.objects.count() == len(body["data"])
    newest = body["data"][0]
    assert newest["object_type"] == "items.item"
    assert newest["object_id"] == str(item.pk)
    assert newest["action"] == "create"
    assert newest["changes"]["title"] == ["None", "Listed"]
    assert set(newest) >= {"actor_id", "actor_email", "timestamp", "request_id"}


def test_filters_by_actor_object_type_and_time(client_for, superuser, member, make_member):
    other = make_member()
    create_item(owner=member, title="Mine")
    create_tag(created_by=other, name="theirs")
    LogEntry.objects.filter(object_repr="Mine").update(actor=member)
    LogEntry.objects.filter(object_repr="theirs").update(actor=other)
    client = client_for(superuser)

    by_actor = client.get(URL, {"actor_id": str(member.pk)}).json()
    assert [row["object_repr"] for row in by_actor["data"]] == ["Mine"]

    by_type = client.get(URL, {"object_type": "tags.tag"}).json()
    assert [row["object_repr"] for row in by_type["data"]] == ["theirs"]

    LogEntry.objects.filter(object_repr="Mine").update(timestamp=timezone.now() - timedelta(days=3))
    since = (timezone.now() - timedelta(days=1)).isoformat()
    recent = client.get(URL, {"since": since, "object_type": "items.item"}).json()
    assert recent["count"] == 0
    until = client.get(URL, {"until": since, "object_type": "items.item"}).json()
    assert [row["object_repr"] for row in until["data"]] == ["Mine"]


@pytest.mark.parametrize(
    "params", [{"object_type": "items"}, {"since": "yesterday"}, {"actor_id": "nope"}]
)
def test_bad_filters_are_422(client_for, superuser, params):
    response = client_for(superuser).get(URL, params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "query"


def test_pagination(client_for, superuser, member):
    for n in range(3):
        create_tag(created_by=member, name=f"t{n}")
    body = client_for(superuser).get(URL, {"object_type": "tags.tag", "limit": 2}).json()
    assert body["count"] == 3
    assert len(body["data"]) == 2
