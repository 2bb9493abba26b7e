"""Item writes. An item may carry only tags its author may view."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.items.models import Item
from apps.tags.models import Tag
from apps.tags.selectors import tags_visible_by_ids
from apps.users.models import User
from launch.permissions import grant_owner_permissions
from launch.teams import team_id_for


def _visible_tags(user: User, tag_ids: Iterable[UUID], team_id: Any) -> list[Tag]:
    wanted = set(tag_ids)
    # Only tags of the item's team: a tag of another team reads as unknown.
    tags = tags_visible_by_ids(user=user, ids=wanted, team_id=team_id)
    missing = wanted - {tag.pk for tag in tags}
    if missing:
        # Absent and not-yours read the same, so the answer reveals no one's tags.
        raise ValidationError(
            {"tag_ids": [f"Unknown tag: {pk}." for pk in sorted(map(str, missing))]}
        )
    return tags


@transaction.atomic
def item_create(
    *,
    user: User,
    title: str,
    description: str | None = None,
    tag_ids: Iterable[UUID] = (),
    team: Any = None,
) -> Item:
    """Create an item owned by `user` in `team` (the API's current team; None: the
    user's default team).

    Side effects: grants `user` every object permission on it; links the tags.
    """
    team_id = team_id_for(user, team)
    tags = _visible_tags(user, tag_ids, team_id)
    item = Item(owner=user, title=title, description=description, team_id=team_id)
    item.full_clean()
    item.save()
    item.tags.set(tags)
    grant_owner_permissions(item, user)
    return item


_UNSET: object = object()


@transaction.atomic
def item_update(
    *,
    item: Item,
    user: User,
    title: str | None = None,
    description: str | object | None = _UNSET,
    tag_ids: Iterable[UUID] | None = None,
) -> Item:
    """Change the given fields of `item`; `tag_ids` replaces its tags, checked against
    what `user` (the editor) may view. Side effects: none beyond the item and its links."""
    if title is not None:
        item.title = title
    if description is not _UNSET:
        item.description = description  # type: ignore[assignment]
    item.full_clean()
    item.save()
    if tag_ids is not None:
        item.tags.set(_visible_tags(user, tag_ids, item.team_id))
    return item


@transaction.atomic
def item_delete(*, item: Item) -> None:
    """Delete `item`. Side effects: its tag links and grants cascade."""
    item.delete()
