"""Chat writes: conversations, and answering messages. The only writers of chat rows."""

from apps.chat.services.answers import (
    AnswerPlan,
    Source,
    answer_generate,
    answer_save,
    message_ask,
    retrieve,
)
from apps.chat.services.conversations import (
    conversation_create,
    conversation_delete,
    conversation_generate_title,
    conversation_rename,
    conversation_request_title,
    shorten,
)

__all__ = [
    "AnswerPlan",
    "Source",
    "answer_generate",
    "answer_save",
    "conversation_create",
    "conversation_delete",
    "conversation_generate_title",
    "conversation_rename",
    "conversation_request_title",
    "message_ask",
    "retrieve",
    "shorten",
]
