from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.apikeys.models import ApiKey
from apps.apikeys.services import apikey_create
from apps.users.models import User
from tests.factories import make_member, member, roleless, roles, stranger

__all__ = ["make_member", "member", "roleless", "roles", "stranger"]


@pytest.fixture
def make_key() -> Callable[..., tuple[ApiKey, str]]:
    """`make_key(user, scopes=[...])`: a key made through the service, with its string."""

    def make(user: User, scopes: list[str] | None = None, **extra: Any) -> tuple[ApiKey, str]:
        return apikey_create(
            user=user, name=extra.pop("name", "script"), scopes=scopes or [], **extra
        )

    return make


@pytest.fixture
def key_client() -> Callable[..., APIClient]:
    """`key_client(raw, header="bearer"|"x-api-key", address=...)`: a client sending a key."""

    def make(raw: str, header: str = "bearer", address: str = "127.0.0.1") -> APIClient:
        client = APIClient(REMOTE_ADDR=address)
        if header == "bearer":
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        else:
            client.credentials(HTTP_X_API_KEY=raw)
        return client

    return make
