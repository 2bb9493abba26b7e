from __future__ import annotations

from django.db.models import QuerySet

from apps.apikeys.models import ApiKey
from apps.users.models import User


def apikey_list(*, user: User) -> QuerySet[ApiKey]:
    """`user`'s own keys, newest first, revoked and expired ones included."""
    return ApiKey.objects.filter(user=user).order_by("-created_at", "id")
