"""Celery entry points: ids in, the services do the work."""

from __future__ import annotations

from celery import shared_task

from apps.chat import services


@shared_task(acks_late=True)
def conversation_generate_title(conversation_id: str) -> str | None:
    """Name a conversation from its first exchange; None if gone or named by hand."""
    return services.conversation_generate_title(conversation_id=conversation_id)
