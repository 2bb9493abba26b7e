from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from apps.users.models import User
from tests.factories import make_member, member, roles

__all__ = ["make_member", "member", "roles"]


@pytest.fixture
def admin_client(superuser: User) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def staff_with(make_user):
    """`staff_with("items.view_item", ...)`: a logged-in admin client for a staff user
    holding exactly these model permissions, and the user."""

    def make(*perms: str) -> tuple[Client, User]:
        user = make_user(is_staff=True)
        user.groups.clear()  # no default role: only the permissions named here
        for perm in perms:
            app_label, codename = perm.split(".")
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        client = Client()
        client.force_login(user)
        return client, User.objects.get(pk=user.pk)

    return make
