from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import override_settings

from apps.rbac.services import (
    role_assign_default,
    roles_ensure_defaults,
    user_role_names,
    user_set_roles,
)

pytestmark = pytest.mark.django_db


def codenames(role: Group) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in role.permissions.select_related("content_type")
    }


def test_default_roles_hold_the_documented_permissions():
    roles = {role.name: role for role in roles_ensure_defaults()}
    assert {"auth.change_group", "users.view_user", "items.share_item"} <= codenames(roles["admin"])
    shareable = ("items.item", "tags.tag", "projects.project")
    private = ("chat.chatconversation",)  # object grants, but never shared

    def perms(models: tuple[str, ...], actions: tuple[str, ...]) -> set[str]:
        return {
            f"{label.split('.')[0]}.{action}_{label.split('.')[1]}"
            for label in models
            for action in actions
        }

    assert codenames(roles["member"]) == perms(
        shareable, ("add", "view", "change", "delete", "share")
    ) | perms(private, ("add", "view", "change", "delete"))
    assert codenames(roles["viewer"]) == perms(shareable + private, ("view",))


def test_ensure_defaults_is_idempotent():
    first = {r.name: codenames(r) for r in roles_ensure_defaults()}
    second = {r.name: codenames(r) for r in roles_ensure_defaults()}
    assert first == second
    assert Group.objects.filter(name__in=["admin", "member", "viewer"]).count() == 3


def test_new_users_get_the_default_role_even_before_bootstrap(make_user):
    user = make_user()
    role = role_assign_default(user=user)
    assert role is not None
    assert role.name == "member"
    assert user_role_names(user) == ["member"]


@override_settings(DEFAULT_ROLE="")
def test_an_empty_default_role_assigns_nothing(make_user):
    user = make_user()
    assert role_assign_default(user=user) is None
    assert user_role_names(user) == []


def test_user_set_roles_replaces_the_set(make_user):
    roles = {role.name: role for role in roles_ensure_defaults()}
    user = make_user()
    user_set_roles(actor=None, user=user, roles=[roles["member"], roles["viewer"]])
    user_set_roles(actor=None, user=user, roles=[roles["admin"]])
    assert user_role_names(user) == ["admin"]


def test_bootstrap_creates_the_default_roles_idempotently(settings, tmp_path):
    settings.FIRST_SUPERUSER_PASSWORD = "a-long-bootstrap-password"
    settings.FIRST_SUPERUSER_FILE = str(tmp_path / "first_superuser.txt")
    for _ in range(2):
        out = StringIO()
        call_command("bootstrap", stdout=out)
        assert "Default roles present: admin, member, viewer." in out.getvalue()
    assert Group.objects.filter(name__in=["admin", "member", "viewer"]).count() == 3
