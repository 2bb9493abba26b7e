"""Permission-aware search over the documents of the projects a user may view."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser

from apps.projects.selectors import PROJECT_NOT_FOUND, project_list
from apps.projects.services.ingestion import SOURCE_TYPE
from apps.users.models import User
from launch.errors import NotFound
from launch.vector_store.services import SearchMode, search


@dataclass(frozen=True)
class DocumentHit:
    chunk_id: uuid.UUID
    document_id: uuid.UUID
    project_id: uuid.UUID
    filename: str
    content: str
    page_number: int | None
    score: float


def document_search(
    *,
    user: User | AnonymousUser,
    query: str,
    project_ids: Sequence[uuid.UUID] | None = None,
    k: int = 10,
    mode: SearchMode = "hybrid",
    document_types: Sequence[str] | None = None,
    team_id: Any = None,
) -> list[DocumentHit]:
    """The `k` best chunks among the projects `user` may view (or those of `project_ids`).

    Raises NotFound when `project_ids` names a project the user cannot view (absent and
    not yours read the same). The scope list comes from the grant tables, so a user who
    may view nothing searches an empty scope and gets [] without a vector query.
    """
    # Every vector's scope is a project id, so confining the scopes to the current
    # team's visible projects confines the hits (the vector store needs no team column).
    visible = project_list(user=user, team_id=team_id)
    if project_ids:
        wanted = set(project_ids)
        scopes = list(visible.filter(pk__in=wanted).values_list("pk", flat=True))
        if len(scopes) != len(wanted):
            raise NotFound(PROJECT_NOT_FOUND)
    else:
        scopes = list(visible.values_list("pk", flat=True))
    # Chunks of other sources (chat messages, ...) may share a project scope; the
    # metadata filter keeps documents only, and narrows by label when asked.
    metadata = [{"source": SOURCE_TYPE, "document_type": t} for t in document_types or ()] or {
        "source": SOURCE_TYPE
    }
    hits = search(query, scopes=scopes, k=k, mode=mode, metadata=metadata)
    return [
        DocumentHit(
            chunk_id=hit.id,
            document_id=hit.source_id,
            project_id=hit.scope_id,
            filename=str(hit.metadata.get("filename", "")),
            content=hit.content,
            page_number=hit.metadata.get("page_number"),
            score=hit.score,
        )
        for hit in hits
    ]
