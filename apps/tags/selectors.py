from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from apps.tags.models import Tag
from apps.users.models import User
from launch.permissions import objects_visible_to


def tag_list(*, user: User | AnonymousUser) -> QuerySet[Tag]:
    """Tags `user` may view: its own and those shared with it or its roles."""
    return objects_visible_to(user, Tag.objects.all())


def tags_visible_by_ids(*, user: User | AnonymousUser, ids: Iterable[UUID]) -> list[Tag]:
    """The tags among `ids` that `user` may view (one query); missing ids are dropped."""
    return list(tag_list(user=user).filter(pk__in=set(ids)))
