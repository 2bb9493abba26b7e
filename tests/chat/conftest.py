"""Fixtures for chat: projects with processed documents, conversations, and a real
OpenAI-compatible server on loopback that the `openai` provider is pointed at."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.files.base import ContentFile

from apps.chat import services as chat
from apps.chat.models import ChatConversation
from apps.projects import services as projects
from apps.projects.models import Document, Project
from apps.users.models import User
from tests.factories import make_member, member, roleless, roles, stranger
from tests.support.llm_server import LLMServer

__all__ = ["make_member", "member", "roleless", "roles", "stranger"]

_seq = itertools.count()

TIDES = (
    "The lighthouse keeper records the tide tables every morning at six. "
    "High tide at the north pier is usually two hours after the harbour's."
)
CLOCKS = "Quartz clocks drift less than pendulum clocks in cold weather, about a second a month."
SECRET = "The vault combination for the tide museum is kept by the night porter."


def create_project(*, owner: User, **extra: Any) -> Project:
    return projects.project_create(user=owner, name=f"Project {next(_seq)}", **extra)


def ingest(project: Project, text: str, name: str = "notes.txt") -> Document:
    """Upload and process a text document in-process: real chunks in the vector store."""
    document = projects.document_upload(
        user=project.owner,
        project=project,
        upload=ContentFile(text.encode(), name=name),
        filename=name,
        document_type=None,
        enqueue=False,
    )
    projects.document_ingest(document_id=document.pk)
    document.refresh_from_db()
    assert document.status == Document.Status.COMPLETED, document.error_message
    return document


def start(user: User, project: Project | None = None, **extra: Any) -> ChatConversation:
    return chat.conversation_create(
        user=user, title="Questions", project_id=project.pk if project else None, **extra
    )


def conversation_url(conversation: ChatConversation | Any, suffix: str = "") -> str:
    return f"/api/v1/chat/conversations/{conversation.pk}{suffix}"


@pytest.fixture
def project(member: User) -> Project:
    return create_project(owner=member, system_prompt="You are the harbour's archivist.")


@pytest.fixture
def tides(project: Project) -> Document:
    return ingest(project, TIDES, "tides.txt")


@pytest.fixture
def clocks(project: Project) -> Document:
    return ingest(project, CLOCKS, "clocks.txt")


@pytest.fixture
def conversation(member: User, project: Project) -> ChatConversation:
    return start(member, project)


@pytest.fixture
def llm(settings: Any) -> Iterator[LLMServer]:
    """A running LLMServer that the `openai` provider is configured to use."""
    with LLMServer(chat_reply="High tide follows the harbour by two hours [1].") as server:
        settings.LLM_PROVIDER = "openai"
        settings.LLM_BASE_URL = server.url
        settings.LLM_MODEL = "harbour-model"
        settings.LLM_TIMEOUT = 2.0
        settings.LLM_MAX_RETRIES = 1
        yield server


@pytest.fixture
def prompt_of(llm: LLMServer) -> Callable[[], list[dict[str, str]]]:
    """The messages of the last chat request the server received."""

    def last() -> list[dict[str, str]]:
        return llm.requests_to("/chat/completions")[-1].body["messages"]

    return last
