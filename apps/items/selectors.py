from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from apps.items.models import Item
from apps.users.models import User
from launch.permissions import objects_visible_to


def item_list(*, user: User | AnonymousUser) -> QuerySet[Item]:
    """Items `user` may view, tags prefetched: the same filter as the API's list."""
    return objects_visible_to(user, Item.objects.prefetch_related("tags"))
