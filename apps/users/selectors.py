"""Reads of users that are worth naming."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.users.models import User
from apps.users.serializers import PUBLIC_FIELDS


def user_list_values() -> QuerySet[User, dict[str, Any]]:
    """Every user as a plain dict of its public fields, ordered by email (unique, so pages
    are stable). Dicts, not model instances: the list is a hot path and needs no methods."""
    return User.objects.order_by("email").values(*PUBLIC_FIELDS)
