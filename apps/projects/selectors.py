"""Permission-scoped reads of projects and documents, and the capacity numbers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth.models import AnonymousUser
from django.db.models import OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from apps.projects.models import Document, Project
from apps.users.models import User
from launch.permissions import objects_visible_to

NEAR_LIMIT_RATIO = 0.8
PROJECT_NOT_FOUND = "Project not found."

# Where conversation tokens come from: `project_conversation_tokens` sums `field` over
# the rows of this model whose `project_lookup` is the project. The model is looked up
# by name, not imported, so projects does not depend on chat (which depends on
# projects); with the chat app not installed, conversations count 0.
CONVERSATION_TOKENS_SOURCE: dict[str, str] = {
    "app_label": "chat",
    "model": "ChatMessage",
    "project_lookup": "conversation__project",
    "field": "estimated_tokens",
}


def project_list(
    *, user: User | AnonymousUser, action: str = "view", team_id: Any = None
) -> QuerySet[Project]:
    """Projects `user` holds `action` on: in team `team_id` (the API's current team),
    through its team role there or its grants; without a team (the admin), its grants."""
    return objects_visible_to(user, Project.objects.all(), action, team_id=team_id)


def project_get(
    *,
    user: User | AnonymousUser,
    project_id: uuid.UUID | str,
    action: str = "view",
    team_id: Any = None,
) -> Project | None:
    """The project if `user` holds `action` on it (in team `team_id`), else None: absent,
    hidden and of another team read alike (callers answer all with the same 404)."""
    return project_list(user=user, action=action, team_id=team_id).filter(pk=project_id).first()


def document_list(*, user: User | AnonymousUser, team_id: Any = None) -> QuerySet[Document]:
    """Documents of the projects `user` may view (in team `team_id`)."""
    projects = project_list(user=user, team_id=team_id)
    return Document.objects.filter(project__in=projects.values("pk"))


def _conversation_model() -> Any:
    try:
        return apps.get_model(
            CONVERSATION_TOKENS_SOURCE["app_label"], CONVERSATION_TOKENS_SOURCE["model"]
        )
    except LookupError:
        return None


def with_capacity(projects: QuerySet[Project]) -> QuerySet[Project]:
    """`projects` annotated with their document and conversation token totals, so the
    capacities of a whole page cost no query per project (`project_capacity` uses them)."""
    documents = (
        Document.objects.filter(project=OuterRef("pk"), status=Document.Status.COMPLETED)
        .order_by()
        .values("project")
        .annotate(total=Sum("estimated_tokens"))
        .values("total")
    )
    projects = projects.annotate(documents_tokens_total=Coalesce(Subquery(documents), 0))
    model = _conversation_model()
    if model is None:
        return projects
    lookup, field = (
        CONVERSATION_TOKENS_SOURCE["project_lookup"],
        CONVERSATION_TOKENS_SOURCE["field"],
    )
    conversations = (
        model.objects.filter(**{lookup: OuterRef("pk")})
        .order_by()
        .values(lookup)
        .annotate(total=Sum(field))
        .values("total")
    )
    return projects.annotate(conversations_tokens_total=Coalesce(Subquery(conversations), 0))


def project_documents_tokens(project: Project) -> int:
    """Tokens of the project's completed documents (pending and failed ones hold none)."""
    if hasattr(project, "documents_tokens_total"):
        return int(project.documents_tokens_total)
    total = project.documents.filter(status=Document.Status.COMPLETED).aggregate(
        total=Sum("estimated_tokens")
    )["total"]
    return int(total or 0)


def project_conversation_tokens(project: Project) -> int:
    """Tokens the project's conversations use: the hook the chat app fills in.

    Looked up lazily (see CONVERSATION_TOKENS_SOURCE) so this app does not depend on chat.
    """
    if hasattr(project, "conversations_tokens_total"):
        return int(project.conversations_tokens_total)
    source = CONVERSATION_TOKENS_SOURCE
    model = _conversation_model()
    if model is None:
        return 0
    total = model.objects.filter(**{source["project_lookup"]: project}).aggregate(
        total=Sum(source["field"])
    )["total"]
    return int(total or 0)


@dataclass(frozen=True)
class Capacity:
    documents_tokens: int
    conversations_tokens: int
    total_tokens: int
    max_tokens: int
    usage_percentage: float
    remaining_tokens: int
    is_near_limit: bool
    is_over_limit: bool


def project_capacity(project: Project) -> Capacity:
    documents = project_documents_tokens(project)
    conversations = project_conversation_tokens(project)
    total = documents + conversations
    limit = project.max_context_tokens
    return Capacity(
        documents_tokens=documents,
        conversations_tokens=conversations,
        total_tokens=total,
        max_tokens=limit,
        usage_percentage=round(100.0 * total / limit, 2) if limit else 0.0,
        remaining_tokens=max(0, limit - total),
        is_near_limit=total >= NEAR_LIMIT_RATIO * limit,
        is_over_limit=total > limit,
    )


def referenced_file_names() -> QuerySet[Document, str]:
    """Storage names of every document's file: what the orphaned-file cleanup of the
    operations app must keep."""
    return Document.objects.exclude(file="").values_list("file", flat=True)
