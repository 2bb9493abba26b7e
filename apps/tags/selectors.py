from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from apps.tags.models import Tag
from apps.users.models import User
from launch.permissions import objects_visible_to


def tag_list(*, user: User | AnonymousUser, team_id: Any = None) -> QuerySet[Tag]:
    """Tags `user` may view: its own and those shared with it or its roles, and in team
    `team_id` those its team role lets it view."""
    return objects_visible_to(user, Tag.objects.all(), team_id=team_id)


def tags_visible_by_ids(
    *, user: User | AnonymousUser, ids: Iterable[UUID], team_id: Any = None
) -> list[Tag]:
    """The tags among `ids` that `user` may view (one query); missing ids are dropped."""
    return list(tag_list(user=user, team_id=team_id).filter(pk__in=set(ids)))
