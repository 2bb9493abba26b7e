"""Fixtures for plans and quotas: a member in their personal team (whose quotas apply),
its plan's limits set per test, and helpers to upload and ask."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile

from apps.chat.models import ChatConversation
from apps.plans.models import Plan
from apps.teams.models import Team
from apps.teams.services import team_ensure_personal
from apps.users.models import User
from tests.apikeys.conftest import key_client, make_key
from tests.chat.conftest import conversation_url, create_project, start
from tests.factories import make_member, member, roleless, roles, stranger

__all__ = ["key_client", "make_key", "make_member", "member", "roleless", "roles", "stranger"]

UNLIMITED = {
    "max_documents": None,
    "max_storage_bytes": None,
    "tokens_per_month": None,
    "chat_messages_per_day": None,
    "api_key_requests_per_minute": None,
}


FREE = importlib.import_module("apps.plans.migrations.0002_default_plan").FREE


@pytest.fixture(autouse=True)
def _fresh_counters() -> Any:
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def default_plan(db: Any) -> Plan:
    """The plan the data migration creates. Tests with `transaction=True` empty every
    table when they end, the migration's rows included; this puts it back."""
    plan, _ = Plan.objects.get_or_create(key="free", defaults=FREE)
    return plan


@pytest.fixture
def team(member: User) -> Team:
    """The member's personal team: their default team, on the default plan."""
    return team_ensure_personal(user=member)


@pytest.fixture
def limits(team: Team) -> Callable[..., Plan]:
    """`limits(max_documents=2, ...)`: puts the team on a plan with these limits (every
    other limit unlimited) and returns it."""

    def set_limits(**values: Any) -> Plan:
        plan, _ = Plan.objects.update_or_create(
            key="test-plan", defaults={"name": "Test plan", **UNLIMITED, **values}
        )
        team.plan = plan
        team.save(update_fields=["plan"])
        return plan

    return set_limits


@pytest.fixture
def project(member: User, team: Team) -> Any:
    return create_project(owner=member)


@pytest.fixture
def conversation(member: User, team: Team) -> ChatConversation:
    return start(member, use_documents=False)


def upload(client: Any, project: Any, data: bytes = b"plain text", name: str = "a.txt") -> Any:
    payload = {"file": ContentFile(data, name=name)}
    return client.post(f"/api/v1/projects/{project.pk}/documents", payload, format="multipart")


def ask(client: Any, conversation: Any, path: str = "/messages", content: str = "Hello?") -> Any:
    return client.post(conversation_url(conversation, path), {"content": content}, format="json")
