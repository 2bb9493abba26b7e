"""Permission-scoped reads of conversations."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, QuerySet

from apps.chat.models import ChatConversation, ChatMessage
from apps.users.models import User
from launch.permissions import objects_visible_to


def conversation_list(
    *, user: User | AnonymousUser, project_id: uuid.UUID | None = None, team_id: Any = None
) -> QuerySet[ChatConversation]:
    """Conversations `user` may view (their own, and in team `team_id` the team's when
    its team role carries `chat.view_chatconversation`; every one for a superuser),
    newest first."""
    conversations = objects_visible_to(user, ChatConversation.objects.all(), team_id=team_id)
    if project_id is not None:
        conversations = conversations.filter(project_id=project_id)
    return conversations.order_by("-updated_at", "id")


def conversation_with_messages(
    conversations: QuerySet[ChatConversation] | None = None,
) -> QuerySet[ChatConversation]:
    """`conversations` (default: all) with their messages and references prefetched: two
    queries beyond the conversations', however many there are."""
    messages = ChatMessage.objects.order_by("created_at", "id").prefetch_related(
        "document_references"
    )
    base = ChatConversation.objects.all() if conversations is None else conversations
    return base.prefetch_related(Prefetch("messages", queryset=messages))
