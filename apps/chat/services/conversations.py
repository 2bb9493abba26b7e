"""Conversation writes: create, rename, delete, and naming one from its first exchange."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from apps.chat.models import ChatConversation, ChatMessage
from apps.projects.selectors import PROJECT_NOT_FOUND, project_get
from apps.users.models import User
from launch.ai.chunking import estimate_tokens
from launch.ai.llm import ChatTurn, LLMError, get_chat_model
from launch.ai.metering import attributed, meter_completion, metered
from launch.errors import NotFound
from launch.permissions import share_with_user
from launch.teams import team_id_for

# The creator's object grants; conversations have no `share`, so they stay private.
OWNER_ACTIONS = ("view", "change", "delete")
TITLE_MAX_CHARS = 60
TITLE_PROMPT = (
    "Write a short title (at most six words) for a conversation that starts with the "
    "exchange below. Answer with the title only, without quotes."
)


@transaction.atomic
def conversation_create(
    *,
    user: User,
    title: str,
    use_documents: bool = True,
    project_id: uuid.UUID | None = None,
    team: Any = None,
) -> ChatConversation:
    """Start a conversation in `team` (None: the user's default team), on a project of
    that team `user` may view (else NotFound), so a conversation's team is its project's.

    Side effects: grants `user` view, change and delete on it.
    """
    team_id = team_id_for(user, team)
    project = project_get(user=user, project_id=project_id, team_id=team_id) if project_id else None
    if project_id and project is None:
        raise NotFound(PROJECT_NOT_FOUND)
    conversation = ChatConversation(
        user=user, project=project, title=title, use_documents=use_documents, team_id=team_id
    )
    conversation.full_clean()
    conversation.save()
    share_with_user(conversation, user, OWNER_ACTIONS)
    return conversation


@transaction.atomic
def conversation_rename(*, conversation: ChatConversation, title: str) -> ChatConversation:
    """Set the title by hand. Side effects: the title task will no longer change it."""
    conversation.title = title
    conversation.title_set_by_user = True
    conversation.auto_generated_title = False
    conversation.full_clean()
    conversation.save(
        update_fields=["title", "title_set_by_user", "auto_generated_title", "updated_at"]
    )
    return conversation


@transaction.atomic
def conversation_delete(*, conversation: ChatConversation) -> None:
    """Delete a conversation. Side effects: its messages, references and grants cascade."""
    conversation.delete()


@transaction.atomic
def conversation_request_title(*, conversation: ChatConversation) -> ChatConversation:
    """Queue the title task and record its id so a client can poll it.

    Side effects: enqueues `apps.chat.tasks.conversation_generate_title` on commit.
    """
    from apps.chat.tasks import conversation_generate_title

    task_id = str(uuid.uuid4())
    conversation.title_generation_task_id = task_id
    conversation.save(update_fields=["title_generation_task_id", "updated_at"])
    transaction.on_commit(
        lambda: conversation_generate_title.apply_async(
            args=[str(conversation.pk)], task_id=task_id
        )
    )
    return conversation


def conversation_generate_title(*, conversation_id: uuid.UUID | str) -> str | None:
    """Name a conversation from its first exchange; returns the title, or None when the
    conversation is gone, has no question yet, or was named by hand.

    The model is asked outside any transaction; the write re-checks the hand-set flag
    under a row lock, so a rename that lands meanwhile wins. Side effects: updates
    `title` and `auto_generated_title`.
    """
    conversation = ChatConversation.objects.filter(pk=conversation_id).first()
    if conversation is None or conversation.title_set_by_user:
        return None
    first = list(conversation.messages.filter(incomplete=False).order_by("created_at", "id")[:2])
    if not first or first[0].role != ChatMessage.Role.USER:
        return None
    who = {
        "user": conversation.user_id,
        "project_id": conversation.project_id,
        "team_id": conversation.team_id,
    }
    with attributed(**who, conversation_id=conversation.pk):
        title = _title_for(first)
    with transaction.atomic():
        locked = ChatConversation.objects.select_for_update().filter(pk=conversation_id).first()
        if locked is None or locked.title_set_by_user:
            return None
        locked.title = title
        locked.auto_generated_title = True
        locked.save(update_fields=["title", "auto_generated_title", "updated_at"])
    return title


def shorten(text: str, limit: int = TITLE_MAX_CHARS) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters."""
    text = " ".join(text.split()).strip(" \"'")
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip(" ,;:.") + "…"


def _title_for(first: list[ChatMessage]) -> str:
    question = first[0].content
    model = get_chat_model()
    if model.model_name == "extractive":
        return shorten(question) or "Conversation"
    exchange = "\n\n".join(f"{m.role}: {m.content}" for m in first)
    messages = [ChatTurn("system", TITLE_PROMPT), ChatTurn("user", exchange)]
    estimate = sum(estimate_tokens(turn.content) for turn in messages)
    try:
        with metered("title", model, input_estimate=estimate) as meter:
            answer = model.complete(messages, max_tokens=24, temperature=0.2)
            meter_completion(meter, answer)
    except LLMError:
        # A title is a convenience: the question itself is a fine fallback.
        return shorten(question) or "Conversation"
    line = next((line for line in answer.text.splitlines() if line.strip()), question)
    return shorten(line) or "Conversation"
