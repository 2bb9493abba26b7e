"""The RAG debugger: what each answer was built from, and the same retrieval run again.

A trace is plain JSON (see `AnswerTrace`): built while the answer is planned, completed
with the model's figures when it is saved, shown to staff in the admin and through the
staff-only API. `trace_replay` runs the recorded retrieval now, e.g. after a reindex,
and says what changed; it writes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet

from apps.chat.models import AnswerTrace, ChatConversation
from apps.users.models import User
from launch.errors import NotFound
from launch.permissions import objects_visible_to
from launch.vector_store.services import SearchHit, SearchResult, search_traced

EXCERPT_CHARS = 240
TRACE_VERSION = 1


def candidate(hit: SearchHit, *, rank: int, citation: int | None) -> dict[str, Any]:
    return {
        "rank": rank,
        "chunk_id": str(hit.id),
        "document_id": str(hit.source_id),
        "chunk_index": hit.chunk_index,
        "filename": str(hit.metadata.get("filename", "")),
        "page_number": hit.metadata.get("page_number"),
        "score": hit.score,
        "semantic_rank": hit.semantic_rank,
        "semantic_score": hit.semantic_score,
        "keyword_rank": hit.keyword_rank,
        "keyword_score": hit.keyword_score,
        "sent": citation is not None,
        "citation": citation,
        "excerpt": " ".join(hit.content.split())[:EXCERPT_CHARS],
    }


def record_retrieval(
    trace: dict[str, Any],
    result: SearchResult,
    hits: list[SearchHit],
    *,
    query: str,
    scopes: list[uuid.UUID],
    k: int,
    pool: int,
    metadata: dict[str, Any],
    document_ids: set[uuid.UUID] | None,
) -> None:
    """Add the retrieval as it ran to `trace` (which chunks were sent is known later)."""
    trace["retrieval"] = {
        "query": result.query or query,
        "mode": result.mode,
        "strategy": result.strategy,
        "embedding_version": result.version,
        "dimensions": result.dimensions,
        "scopes": [str(scope) for scope in scopes],
        "metadata": metadata,
        "document_ids": sorted(str(d) for d in document_ids) if document_ids else None,
        "k": k,
        "pool": pool,
        "candidates": [
            candidate(hit, rank=rank, citation=None) for rank, hit in enumerate(hits, start=1)
        ],
    }
    trace.setdefault("timings_ms", {}).update(
        {
            f"retrieval_{name.removesuffix('_ms')}": round(ms, 2)
            for name, ms in result.timings.items()
        }
    )


def finished(
    trace: dict[str, Any], sources: list[Any], message: Any, completion: Any
) -> dict[str, Any]:
    """The trace completed with what the model was sent and what it answered."""
    data = dict(trace)
    sent = {str(source.chunk_id): source.number for source in sources}
    for entry in (data.get("retrieval") or {}).get("candidates", []):
        entry["citation"] = sent.get(entry["chunk_id"])
        entry["sent"] = entry["citation"] is not None
    data["sent"] = [
        {
            "citation": source.number,
            "chunk_id": str(source.chunk_id),
            "document_id": str(source.document_id),
            "filename": source.filename,
            "page_number": source.page_number,
            "score": source.score,
            "content": source.content,
        }
        for source in sources
    ]
    data["model"] = message.model
    data["prompt_tokens"] = message.prompt_tokens
    data["completion_tokens"] = message.completion_tokens
    data["tokens_estimated"] = completion is None
    data["incomplete"] = message.incomplete
    timings = {**data.get("timings_ms", {}), "generation": message.latency_ms}
    # In the order the stages ran, so the admin reads them top to bottom.
    order = ["retrieval_embed", "retrieval_query", "retrieval", "prompt", "generation"]
    position = {name: index for index, name in enumerate(order)}
    data["timings_ms"] = {
        name: timings[name] for name in sorted(timings, key=lambda n: position.get(n, len(order)))
    }
    return data


def _visible(user: User, team_id: Any) -> QuerySet[AnswerTrace]:
    traces = AnswerTrace.objects.select_related("message", "message__conversation")
    if team_id is not None:
        traces = traces.filter(message__conversation__team_id=team_id)
    if user.is_superuser:
        return traces
    conversations = objects_visible_to(user, ChatConversation.objects.all(), team_id=team_id)
    return traces.filter(message__conversation__in=conversations.values("pk"))


def trace_for(*, user: User, message_id: uuid.UUID | str, team_id: Any = None) -> AnswerTrace:
    """The trace of an answer, for staff who may see its conversation (in team
    `team_id`); NotFound otherwise (absent, not an answer, or not visible read alike)."""
    try:
        wanted = uuid.UUID(str(message_id))
    except ValueError:
        raise NotFound("No trace for that message.") from None
    trace = _visible(user, team_id).filter(message_id=wanted).first()
    if trace is None:
        raise NotFound("No trace for that message.")
    return trace


def trace_replay(*, trace: AnswerTrace) -> dict[str, Any]:
    """Run the recorded retrieval again with today's index and models and compare.

    Chunks are matched by (document, chunk index), which survive a reindex (chunk ids do
    not). Returns the new candidates, each with its old rank (None: new), the old
    candidates that are gone, and whether the version or the strategy changed.
    """
    recorded = trace.data.get("retrieval") or {}
    if not recorded.get("query"):
        return {"available": False, "reason": "This answer ran no retrieval."}
    scopes = [uuid.UUID(scope) for scope in recorded.get("scopes") or []]
    result = search_traced(
        recorded["query"],
        scopes=scopes,
        k=int(recorded.get("pool") or recorded.get("k") or 10),
        mode=recorded.get("mode") or "hybrid",
        metadata=recorded.get("metadata") or None,
    )
    wanted = set(recorded.get("document_ids") or [])
    hits = [hit for hit in result.hits if not wanted or str(hit.source_id) in wanted]
    before = {(c["document_id"], c["chunk_index"]): c for c in recorded.get("candidates") or []}
    now = []
    for rank, hit in enumerate(hits, start=1):
        entry = candidate(hit, rank=rank, citation=None)
        old = before.get((entry["document_id"], entry["chunk_index"]))
        entry["old_rank"] = old["rank"] if old else None
        entry["old_score"] = old["score"] if old else None
        entry["change"] = _change(entry["old_rank"], rank)
        now.append(entry)
    seen = {(c["document_id"], c["chunk_index"]) for c in now}
    gone = [c for key, c in before.items() if key not in seen]
    return {
        "available": True,
        "query": recorded["query"],
        "mode": result.mode,
        "strategy": {"then": recorded.get("strategy"), "now": result.strategy},
        "embedding_version": {"then": recorded.get("embedding_version"), "now": result.version},
        "candidates": now,
        "gone": gone,
        "unchanged": not gone and all(c["change"] == "same" for c in now),
    }


def _change(old_rank: int | None, rank: int) -> str:
    if old_rank is None:
        return "new"
    if old_rank == rank:
        return "same"
    return "up" if rank < old_rank else "down"
