"""Tag writes. Names are unique per creator, case-insensitively (409 on a clash)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from apps.tags.models import DEFAULT_COLOR, Tag
from apps.users.models import User
from launch.errors import Conflict
from launch.permissions import grant_owner_permissions
from launch.teams import team_id_for

DUPLICATE = "You already have a tag with this name."


def _save(tag: Tag) -> None:
    # Field errors are 422; the name clash is checked here so it can be a 409 instead.
    tag.full_clean(validate_constraints=False)
    clash = Tag.objects.filter(created_by_id=tag.created_by_id, name__iexact=tag.name)
    if clash.exclude(pk=tag.pk).exists():
        raise Conflict(DUPLICATE)
    try:
        with transaction.atomic():
            tag.save()
    except IntegrityError:  # a concurrent request took the name between check and save
        raise Conflict(DUPLICATE) from None


@transaction.atomic
def tag_create(*, user: User, name: str, color: str = DEFAULT_COLOR, team: Any = None) -> Tag:
    """Create a tag owned by `user` in `team` (None: the user's default team).
    Side effects: grants `user` every object permission."""
    tag = Tag(name=name, color=color, created_by=user, team_id=team_id_for(user, team))
    _save(tag)
    grant_owner_permissions(tag, user)
    return tag


@transaction.atomic
def tag_update(*, tag: Tag, name: str | None = None, color: str | None = None) -> Tag:
    """Rename or recolour `tag`. Side effects: none beyond the row."""
    if name is not None:
        tag.name = name
    if color is not None:
        tag.color = color
    _save(tag)
    return tag


@transaction.atomic
def tag_delete(*, tag: Tag) -> None:
    """Delete `tag`. Side effects: detaches it from every item; its grants cascade."""
    tag.delete()
