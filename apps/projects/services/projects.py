"""Project writes."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.projects.models import DEFAULT_CONTEXT_TOKENS, Document, Project
from apps.projects.services.documents import document_delete
from apps.users.models import User
from launch.permissions import grant_owner_permissions
from launch.teams import team_id_for

_UNSET: object = object()


@transaction.atomic
def project_create(
    *,
    user: User,
    name: str,
    description: str | None = None,
    system_prompt: str | None = None,
    max_context_tokens: int = DEFAULT_CONTEXT_TOKENS,
    team: Any = None,
) -> Project:
    """Create a project owned by `user` in `team` (None: the user's default team).
    Side effects: grants `user` every object permission on it."""
    project = Project(
        owner=user,
        team_id=team_id_for(user, team),
        name=name,
        description=description,
        system_prompt=system_prompt,
        max_context_tokens=max_context_tokens,
    )
    project.full_clean()
    project.save()
    grant_owner_permissions(project, user)
    return project


@transaction.atomic
def project_update(
    *,
    project: Project,
    name: str | None = None,
    description: str | object | None = _UNSET,
    system_prompt: str | object | None = _UNSET,
    max_context_tokens: int | None = None,
) -> Project:
    """Change the given fields (None leaves `name` and `max_context_tokens` as they are,
    as upstream's ProjectUpdate does)."""
    if name is not None:
        project.name = name
    if description is not _UNSET:
        project.description = description  # type: ignore[assignment]
    if system_prompt is not _UNSET:
        project.system_prompt = system_prompt  # type: ignore[assignment]
    if max_context_tokens is not None:
        project.max_context_tokens = max_context_tokens
    project.full_clean()
    project.save()
    return project


@transaction.atomic
def project_delete(*, project: Project) -> None:
    """Delete a project. Side effects: each document is deleted as `document_delete` does
    (its vectors now, its file after commit); grants cascade."""
    for document in Document.objects.filter(project=project).select_for_update():
        document_delete(document=document)
    project.delete()
