"""Fixtures for the knowledge base: projects, uploads and processed documents."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from celery.signals import task_retry
from django.core.files.base import ContentFile

from apps.projects import services
from apps.projects.models import Document, Project
from apps.users.models import User
from tests.factories import make_member, member, roleless, roles, stranger

__all__ = ["make_member", "member", "roleless", "roles", "stranger"]

_seq = itertools.count()

TEXT = (
    "The lighthouse keeper logs the tide tables every morning. "
    "Quartz clocks drift less than pendulum clocks in cold weather."
)


def create_project(*, owner: User, name: str | None = None, **extra: Any) -> Project:
    return services.project_create(user=owner, name=name or f"Project {next(_seq)}", **extra)


def upload(
    *,
    project: Project,
    user: User | None = None,
    data: bytes = TEXT.encode(),
    name: str = "notes.txt",
    document_type: str | None = None,
) -> Document:
    """A pending document, stored as the API would store it (no task is queued)."""
    return services.document_upload(
        user=user or project.owner,
        project=project,
        upload=ContentFile(data, name=name),
        filename=name,
        document_type=document_type,
        enqueue=False,
    )


def ingest(**kwargs: Any) -> Document:
    """Upload and process in-process; returns the refreshed document."""
    document = upload(**kwargs)
    services.document_ingest(document_id=document.pk)
    document.refresh_from_db()
    return document


@pytest.fixture
def project(member: User) -> Project:
    return create_project(owner=member)


@pytest.fixture
def make_project() -> Callable[..., Project]:
    return create_project


@contextmanager
def retry_waits() -> Iterator[list[float]]:
    """The waits (seconds) Celery chose for each retry in the block, in order, as its
    `task_retry` signal reports them (eager runs retry at once, but still choose)."""
    waits: list[float] = []

    def observe(reason: Any = None, **kwargs: Any) -> None:
        waits.append(float(reason.when))

    task_retry.connect(observe, weak=False)
    try:
        yield waits
    finally:
        task_retry.disconnect(observe)
