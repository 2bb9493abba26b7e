from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def _fresh_throttles() -> Iterator[None]:
    """Throttle counters live in the cache; each test starts from zero."""
    cache.clear()
    yield
    cache.clear()


def login(client: APIClient, email: str, password: str = PASSWORD, **kwargs: Any) -> Any:
    return client.post(
        "/api/v1/login/access-token", {"username": email, "password": password}, **kwargs
    )


def assert_envelope(response: Any, status: int) -> Any:
    """The response has `status` and the error envelope; returns its detail."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail"}
    if status == 422:
        assert body["detail"]
        for item in body["detail"]:
            assert set(item) == {"loc", "msg", "type"}
    else:
        assert isinstance(body["detail"], str)
    return body["detail"]
