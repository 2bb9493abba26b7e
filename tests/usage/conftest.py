"""Fixtures for the usage ledger: the chat fixtures (projects, documents, a loopback
OpenAI-compatible server), an embedding provider pointed at that server, and helpers
that read what the server received."""

from __future__ import annotations

from typing import Any

import pytest

from apps.teams.models import Team
from apps.teams.services import team_ensure_personal
from apps.users.models import User
from tests.apikeys.conftest import key_client
from tests.chat.conftest import (
    clocks,
    conversation,
    llm,
    project,
    tides,
)
from tests.factories import make_member, member, roleless, roles, stranger
from tests.support.llm_server import LLMServer, RecordedRequest

__all__ = [
    "clocks",
    "conversation",
    "key_client",
    "llm",
    "make_member",
    "member",
    "project",
    "roleless",
    "roles",
    "stranger",
    "tides",
]


def words(text: str) -> int:
    """The loopback server's token count (tests/support/llm_server.py counts words)."""
    return len(text.split())


def embedding_tokens(requests: list[RecordedRequest]) -> int:
    """The tokens the server reported for these /embeddings requests."""
    return sum(words(text) for request in requests for text in request.body["input"])


def prompt_tokens(request: RecordedRequest) -> int:
    return sum(words(m["content"]) for m in request.body["messages"])


@pytest.fixture
def personal_team(member: User) -> Team:
    return team_ensure_personal(user=member)


@pytest.fixture
def embeddings(llm: LLMServer, settings: Any) -> LLMServer:
    """The same loopback server, also serving the `openai` embedding provider."""
    llm.dimensions = settings.EMBEDDING_DIMENSIONS
    settings.EMBEDDING_PROVIDER = "openai"
    settings.EMBEDDING_BASE_URL = llm.url
    settings.EMBEDDING_MODEL = "harbour-embedder"
    settings.EMBEDDING_MAX_RETRIES = 0
    settings.EMBEDDING_BATCH_SIZE = 2
    # The provider is cached per configuration: the settings above select a new one, and
    # the old one is back when the fixture's settings are restored.
    return llm
