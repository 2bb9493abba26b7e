"""Answering a message: save the question, retrieve, prompt the model, save the answer.

The three steps are separate so that no transaction or database connection is held
while the model thinks: `message_ask` commits the user's message and returns an
`AnswerPlan` (plain data), the caller runs the model, and `answer_save` writes the
assistant message and its references in one short transaction. A model failure
therefore leaves the question saved and no assistant message at all.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from apps.chat.models import AnswerTrace, ChatConversation, ChatMessage, DocumentReference
from apps.chat.services import traces
from apps.plans.quotas import chat_message_reserved
from apps.projects.models import Document, Project
from apps.projects.selectors import project_get
from apps.projects.services.ingestion import SOURCE_TYPE
from apps.teams.models import Team
from apps.users.models import User
from launch.ai.chunking import estimate_tokens
from launch.ai.embeddings import EmbeddingServiceError
from launch.ai.llm import ChatTurn, Completion, LLMUnavailable, Passage, get_chat_model
from launch.ai.llm.base import Role
from launch.ai.metering import meter_completion, metered
from launch.ai.prompts import Prompt, build_prompt, prompt_budget
from launch.vector_store.services import search_traced

# Older turns than this are never sent, however large the budget: it bounds the query.
HISTORY_LIMIT = 50
SNIPPET_CHARS = 1000
# Candidates retrieved past the k sent, so the RAG debugger shows the near misses too
# (hybrid fusion ranks the same whatever k is, so the k sent do not change).
TRACE_EXTRA_CANDIDATES = 4


@dataclass(frozen=True)
class Source:
    """A retrieved chunk, numbered as the prompt cites it."""

    number: int
    chunk_id: uuid.UUID
    document_id: uuid.UUID
    document_type: str
    filename: str
    content: str
    score: float
    page_number: int | None
    page_total: int | None

    def passage(self) -> Passage:
        label = (
            self.filename
            if self.page_number is None
            else f"{self.filename}, page {self.page_number}"
        )
        return Passage(self.number, self.content, label)


@dataclass(frozen=True)
class AnswerPlan:
    """Everything needed to ask the model and save its answer, without the database."""

    conversation_id: uuid.UUID
    prompt: Prompt
    sources: list[Source]
    use_documents: bool
    max_tokens: int
    temperature: float
    project_id: uuid.UUID | None = None
    # The RAG debugger's record of this answer so far (see `services.traces`).
    trace: dict[str, Any] = field(default_factory=dict)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def message_ask(
    *,
    conversation: ChatConversation,
    user: User,
    content: str,
    use_documents: bool | None = None,
    document_ids: Sequence[uuid.UUID] = (),
    team: Team | None = None,
) -> tuple[ChatMessage, AnswerPlan]:
    """Save the user's message and plan the answer (retrieval and prompt).

    `team` (the request's, apps.plans.quotas.team_for_request) is the one whose plan is
    checked before the message is stored: RateLimited (429) when its monthly tokens are
    spent or its daily messages used up; nothing is stored then.

    Project access is checked again here, on every message: a project the user can no
    longer view contributes neither passages nor its system prompt. `document_ids`
    narrows retrieval to those documents of the project (unknown ones are a 422).
    Side effects: commits the user message; bumps the conversation's `updated_at`.
    """
    grounded = conversation.use_documents if use_documents is None else use_documents
    project_id = conversation.project_id
    project = (
        project_get(user=user, project_id=project_id, team_id=conversation.team_id)
        if project_id
        else None
    )
    wanted = _documents_of(project, document_ids) if document_ids else None
    with chat_message_reserved(team), transaction.atomic():
        message = ChatMessage.objects.create(
            conversation=conversation,
            role=ChatMessage.Role.USER,
            content=content,
            use_documents=grounded,
            estimated_tokens=estimate_tokens(content),
        )
        _touch(conversation)
    trace: dict[str, Any] = {"version": traces.TRACE_VERSION, "question": content, "timings_ms": {}}
    started = time.perf_counter()
    sources = (
        retrieve(project=project, query=content, document_ids=wanted, trace=trace)
        if grounded
        else []
    )
    trace["timings_ms"]["retrieval"] = _ms(started)
    started = time.perf_counter()
    answer_tokens = int(settings.LLM_MAX_ANSWER_TOKENS)
    budget = prompt_budget(
        project_max_tokens=project.max_context_tokens if project else None,
        model_context_tokens=int(settings.LLM_CONTEXT_TOKENS),
        answer_tokens=answer_tokens,
    )
    prompt = build_prompt(
        question=content,
        system_prompt=project.system_prompt if project else None,
        passages=[source.passage() for source in sources],
        history=_history(conversation, before=message),
        budget=budget,
    )
    trace["timings_ms"]["prompt"] = _ms(started)
    plan = AnswerPlan(
        conversation_id=conversation.pk,
        prompt=prompt,
        sources=sources[: len(prompt.passages)],
        use_documents=grounded,
        max_tokens=answer_tokens,
        temperature=float(settings.CHAT_TEMPERATURE),
        project_id=project.pk if project else None,
        trace=trace,
    )
    return message, plan


def answer_generate(*, plan: AnswerPlan) -> ChatMessage:
    """Ask the model and save its answer. Raises `LLMError` with nothing saved.

    Side effects: see `answer_save`.
    """
    started = time.monotonic()
    model = get_chat_model()
    with metered("answer", model, input_estimate=plan.prompt.estimated_tokens) as meter:
        completion = model.complete(
            plan.prompt.messages,
            max_tokens=plan.max_tokens,
            temperature=plan.temperature,
            passages=plan.prompt.passages,
        )
        meter_completion(meter, completion)
    return answer_save(
        plan=plan,
        text=completion.text,
        completion=completion,
        latency_ms=int((time.monotonic() - started) * 1000),
    )


@transaction.atomic
def answer_save(
    *,
    plan: AnswerPlan,
    text: str,
    completion: Completion | None,
    latency_ms: int,
    incomplete: bool = False,
) -> ChatMessage:
    """Write the assistant message with its provenance and references.

    `completion` is None for a stream cut short (`incomplete`): its tokens are estimated.
    Side effects: an assistant ChatMessage, its DocumentReferences; bumps the
    conversation's `updated_at`.
    """
    prompt_tokens = completion.prompt_tokens if completion else plan.prompt.estimated_tokens
    completion_tokens = completion.completion_tokens if completion else estimate_tokens(text)
    message = ChatMessage.objects.create(
        conversation_id=plan.conversation_id,
        role=ChatMessage.Role.ASSISTANT,
        content=text,
        use_documents=plan.use_documents,
        estimated_tokens=completion_tokens,
        model=completion.model if completion else get_chat_model().model_name,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        latency_ms=latency_ms,
        incomplete=incomplete,
    )
    DocumentReference.objects.bulk_create(
        DocumentReference(
            message=message,
            document_id=source.document_id,
            chunk_id=source.chunk_id,
            citation=source.number,
            document_type=source.document_type,
            filename=source.filename,
            content_snippet=source.content[:SNIPPET_CHARS],
            relevance_score=source.score,
            page_number=source.page_number,
            page_total=source.page_total,
        )
        for source in plan.sources
    )
    ChatConversation.objects.filter(pk=plan.conversation_id).update(updated_at=message.created_at)
    AnswerTrace.objects.create(
        message=message, data=traces.finished(plan.trace, plan.sources, message, completion)
    )
    return message


def retrieve(
    *,
    project: Project | None,
    query: str,
    document_ids: set[uuid.UUID] | None = None,
    trace: dict[str, Any] | None = None,
) -> list[Source]:
    """The best chunks of the project's documents for `query`, numbered from 1.

    Narrowing to `document_ids` filters the hybrid search's candidates: the vector store
    filters by scope and metadata, not by source, so a wider pool is searched first.
    """
    if project is None or not query.strip():
        return []
    k = max(1, int(settings.CHAT_RETRIEVAL_K))
    pool = k + TRACE_EXTRA_CANDIDATES if document_ids is None else min(1000, max(100, 20 * k))
    metadata = {"source": SOURCE_TYPE}
    try:
        result = search_traced(query, scopes=[project.pk], k=pool, mode="hybrid", metadata=metadata)
    except EmbeddingServiceError as exc:
        raise LLMUnavailable(f"Retrieval failed: {exc}") from exc
    hits = result.hits
    if document_ids is not None:
        hits = [hit for hit in hits if hit.source_id in document_ids]
    if trace is not None:
        traces.record_retrieval(
            trace,
            result,
            hits[: k + TRACE_EXTRA_CANDIDATES],
            query=query,
            scopes=[project.pk],
            k=k,
            pool=pool,
            metadata=metadata,
            document_ids=document_ids,
        )
    hits = hits[:k]
    documents = {
        doc.pk: doc
        for doc in Document.objects.filter(
            project=project, pk__in=[hit.source_id for hit in hits]
        ).only("pk", "filename", "document_type")
    }
    sources: list[Source] = []
    for hit in hits:
        document = documents.get(hit.source_id)
        if document is None:
            continue  # deleted since it was indexed
        sources.append(
            Source(
                number=len(sources) + 1,
                chunk_id=hit.id,
                document_id=document.pk,
                document_type=document.document_type,
                filename=document.filename,
                content=hit.content,
                score=hit.score,
                page_number=_int_or_none(hit.metadata.get("page_number")),
                page_total=_int_or_none(hit.metadata.get("page_total")),
            )
        )
    return sources


def _documents_of(project: Project | None, document_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    wanted = set(document_ids)
    if project is None:
        # Nothing will be retrieved anyway; do not reveal which documents exist.
        return wanted
    found = set(
        Document.objects.filter(project=project, pk__in=wanted).values_list("pk", flat=True)
    )
    if missing := wanted - found:
        raise ValidationError(
            {
                "document_ids": [
                    f"Not a document of this conversation's project: {pk}."
                    for pk in sorted(map(str, missing))
                ]
            }
        )
    return wanted


def _history(conversation: ChatConversation, *, before: ChatMessage) -> list[ChatTurn]:
    """Earlier complete messages, oldest first (at most HISTORY_LIMIT)."""
    rows = (
        conversation.messages.filter(incomplete=False)
        .exclude(pk=before.pk)
        .order_by("-created_at", "-id")
        .values_list("role", "content")[:HISTORY_LIMIT]
    )
    return [ChatTurn(cast(Role, role), content) for role, content in reversed(list(rows))]


def _touch(conversation: ChatConversation) -> None:
    conversation.save(update_fields=["updated_at"])


def _int_or_none(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
