"""Reads of users that are worth naming."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import OuterRef, QuerySet

from apps.users.models import User
from apps.users.serializers import PUBLIC_FIELDS


def user_list_values() -> QuerySet[User, dict[str, Any]]:
    """Every user as a plain dict of its public fields and role names, ordered by email
    (unique, so pages are stable). Dicts, not model instances: the list is a hot path.

    Roles come from a correlated subquery in the SELECT list, which PostgreSQL evaluates
    only for the rows of the page, so the list stays one query whatever its length."""
    roles = Group.objects.filter(user=OuterRef("pk")).order_by("name").values("name")
    return (
        User.objects.order_by("email")
        .annotate(roles=ArraySubquery(roles))
        .values(*PUBLIC_FIELDS, "roles")
    )
