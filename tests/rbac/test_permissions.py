"""launch.permissions: grants, visibility and the admin built on them."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from apps.items.models import Item, ItemUserObjectPermission
from apps.rbac.models import RoleProfile
from launch.permissions import (
    normalize_actions,
    object_actions_of,
    objects_visible_to,
    perm_models,
    share_with_role,
    share_with_user,
)
from tests.conftest import PASSWORD
from tests.factories import create_item

pytestmark = pytest.mark.django_db


def test_a_model_without_direct_grant_tables_is_refused():
    with pytest.raises(ImproperlyConfigured):
        perm_models(RoleProfile)


def test_change_delete_and_share_imply_view_and_unknown_actions_fail():
    assert normalize_actions(["share"]) == {"share", "view"}
    assert normalize_actions([]) == set()
    with pytest.raises(ValueError, match="own"):
        normalize_actions(["own"])


@pytest.mark.promise(2)
def test_visibility_is_the_union_of_user_and_role_grants(member, stranger, roles):
    mine, direct, via_role, hidden = (create_item(owner=member) for _ in range(4))
    share_with_user(direct, stranger, ["view"])
    share_with_role(via_role, roles["member"], ["view"])
    share_with_user(hidden, stranger, [])
    visible = set(objects_visible_to(stranger, Item.objects.all()))
    assert visible == {direct, via_role}
    assert mine not in visible


@pytest.mark.promise(2)
def test_anonymous_and_inactive_users_see_nothing(member, stranger):
    item = create_item(owner=member)
    assert not objects_visible_to(AnonymousUser(), Item.objects.all()).exists()
    member.is_active = False
    assert not objects_visible_to(member, Item.objects.all()).exists()
    assert object_actions_of(member, item) == set()


def test_object_actions_merge_user_and_role_grants(member, stranger, roles):
    item = create_item(owner=member)
    share_with_user(item, stranger, ["view"])
    share_with_role(item, roles["member"], ["change"])
    assert object_actions_of(stranger, item) == {"view", "change"}
    assert object_actions_of(member, item) == {"view", "change", "delete", "share"}


@pytest.mark.promise(2)
def test_deleting_a_user_deletes_its_grants(member, stranger):
    item = create_item(owner=member)
    share_with_user(item, stranger, ["view"])
    stranger.delete()
    assert ItemUserObjectPermission.objects.filter(content_object_id=item.pk).count() == 4


def test_the_list_filter_is_a_union_of_indexed_grant_lookups(member):
    sql = str(objects_visible_to(member, Item.objects.all()).query)
    assert "UNION" in sql
    assert "items_itemuserobjectpermission" in sql
    assert "items_itemgroupobjectpermission" in sql
    assert "object_pk" not in sql  # never guardian's generic text-keyed table


@pytest.mark.promise(2)
def test_admin_shows_staff_exactly_what_was_shared(make_member, member):
    staff = make_member(role="member", is_staff=True)
    shared, private = create_item(owner=member, title="shared one"), create_item(owner=member)
    share_with_user(shared, staff, ["view"])
    browser = Client()
    browser.login(username=staff.email, password=PASSWORD)

    page = browser.get("/admin/items/item/")
    assert page.status_code == 200
    assert "shared one" in page.content.decode()
    assert private.title not in page.content.decode()
    assert browser.get(f"/admin/items/item/{private.pk}/change/").status_code in (302, 404)
    change_page = browser.get(f"/admin/items/item/{shared.pk}/change/")
    assert change_page.status_code == 200
    assert 'name="title"' not in change_page.content.decode()  # view grant: read-only form
    assert browser.get(f"/admin/items/item/{shared.pk}/permissions/").status_code == 403
