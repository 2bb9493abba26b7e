"""Upstream's chat paths. `GET /chat/conversations/{id}` lists a *project's*
conversations while `DELETE` on the same path deletes a conversation, as upstream has it."""

from django.urls import re_path

from apps.chat.trace_views import MessageTraceView
from apps.chat.viewsets import ChatConversationViewSet as Chat

UUID = r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"
ID = rf"(?P<conversation_id>{UUID})"
# Routes that add to a conversation need object `change` on it (and the role's
# `chat.change_chatconversation`), whatever their HTTP method.
CHANGE = {"permission_action": "change"}

urlpatterns = [
    re_path(
        r"^chat/conversations/?$",
        Chat.as_view({"get": "list", "post": "create"}),
        name="chat-conversations",
    ),
    re_path(
        rf"^chat/conversations/{ID}/?$",
        Chat.as_view({"get": "project_conversations", "delete": "destroy"}),
        name="chat-conversation",
    ),
    re_path(
        rf"^chat/conversations/{ID}/detail/?$",
        Chat.as_view({"get": "retrieve"}),
        name="chat-conversation-detail",
    ),
    re_path(
        rf"^chat/conversations/{ID}/messages/?$",
        Chat.as_view({"post": "messages"}, **CHANGE),
        name="chat-messages",
    ),
    re_path(
        rf"^chat/conversations/{ID}/messages/stream/?$",
        Chat.as_view({"post": "stream"}, **CHANGE),
        name="chat-messages-stream",
    ),
    re_path(
        rf"^chat/conversations/{ID}/title/?$",
        Chat.as_view({"patch": "title"}, **CHANGE),
        name="chat-title",
    ),
    re_path(
        rf"^chat/conversations/{ID}/generate-title/?$",
        Chat.as_view({"post": "generate_title"}, **CHANGE),
        name="chat-generate-title",
    ),
    re_path(
        rf"^chat/messages/(?P<message_id>{UUID})/trace/?$",
        MessageTraceView.as_view(),
        name="chat-message-trace",
    ),
]
