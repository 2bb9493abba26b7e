"""The chat API, on upstream's paths and operation ids (see `urls.py` for the routes)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, cast

from django.core.handlers.asgi import ASGIRequest
from django.db import OperationalError, connection
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.chat import services
from apps.chat.errors import api_error
from apps.chat.models import ChatConversation
from apps.chat.selectors import conversation_list, conversation_with_messages
from apps.chat.serializers import (
    ChatConversationDetailSerializer,
    ChatConversationSerializer,
    ChatConversationTitleSerializer,
    ChatMessageCreateSerializer,
    ChatMessageSerializer,
    ChatTitleGenerationSerializer,
)
from apps.chat.streaming import ModelStream, answer_events, answer_events_sync
from apps.plans.quotas import chat_messages_window, team_for_request
from apps.projects.selectors import PROJECT_NOT_FOUND, project_get
from apps.usage.attribution import request_usage
from apps.users.models import User
from apps.users.serializers import MessageSerializer
from launch.ai.llm import LLMError, get_chat_model
from launch.ai.metering import Meter
from launch.api.exceptions import ClientClosedRequest
from launch.api.pagination import SkipLimitPagination, skip_limit
from launch.api.teams import request_team
from launch.api.throttles import ChatThrottle
from launch.api.viewsets import DeleteMessageMixin, LaunchGenericViewSet
from launch.asgi import client_gone
from launch.db import cancel_queries_when_gone
from launch.errors import NotFound
from launch.permissions import visible_page

logger = logging.getLogger(__name__)

BARE_LIST = (
    "Answers a bare JSON array, as upstream does, not the `{data, count}` envelope of "
    "other lists; `skip` and `limit` bound it. Newest activity first."
)
# OpenAPI 3.1 has a `text/event-stream` schema describe one event, not the whole body.
SSE_EVENT = {
    "type": "object",
    "properties": {
        "event": {"type": "string", "enum": ["references", "delta", "done", "error"]},
        "data": {"type": "string", "description": "The event's JSON payload."},
    },
    "required": ["event", "data"],
}
FAILURES = {
    429: OpenApiResponse(
        description="THROTTLE_CHAT_RATE reached, the model service is rate limiting, or "
        "the team's plan's monthly tokens or daily messages are used up (`quota`, `limit`, "
        "`used`, `resets_at` in the body; nothing is stored). With Retry-After."
    ),
    502: OpenApiResponse(description="The model failed; the user message is kept."),
    504: OpenApiResponse(description="The model did not answer in time; the message is kept."),
}
PAGE_PARAMETERS = SkipLimitPagination().get_schema_operation_parameters(None)
SKIP_LIMIT = [
    OpenApiParameter(p["name"], OpenApiTypes.INT, OpenApiParameter.QUERY, required=False)
    for p in PAGE_PARAMETERS
]


class ChatConversationViewSet(DeleteMessageMixin, LaunchGenericViewSet):
    """Conversations are private: object grants go to the creator only, and there is no
    share route. Posting a message, renaming and titling need object `change`."""

    queryset = ChatConversation.objects.all()
    serializer_class = ChatConversationSerializer
    pagination_class = None
    filter_backends = LaunchGenericViewSet.filter_backends[:1]  # grants only; no ?search=
    lookup_url_kwarg = "conversation_id"

    def get_throttles(self) -> list[Any]:
        if self.action in ("messages", "stream"):
            return [ChatThrottle()]
        return super().get_throttles()

    def get_queryset(self) -> Any:
        if self.action == "retrieve":
            return conversation_with_messages()
        return super().get_queryset()

    def _bounded(self, conversations: Any) -> Response:
        # Upstream's conversations carry their messages, lists included; the page's
        # messages and references come in two prefetch queries.
        skip, limit = skip_limit(self.request)
        page = conversation_with_messages(visible_page(conversations, skip, limit))
        return Response(ChatConversationDetailSerializer(page, many=True).data)

    @staticmethod
    def _detail(conversation: ChatConversation, **extra: Any) -> dict[str, Any]:
        fresh = conversation_with_messages().get(pk=conversation.pk)
        return {**ChatConversationDetailSerializer(fresh).data, **extra}

    @extend_schema(
        operation_id="chat-get_user_conversations",
        summary="Your conversations",
        description=BARE_LIST,
        parameters=SKIP_LIMIT,
        responses=ChatConversationDetailSerializer(many=True),
    )
    def list(self, request: Request) -> Response:
        team_id = request_team(request).pk
        return self._bounded(conversation_list(user=cast(User, request.user), team_id=team_id))

    @extend_schema(
        operation_id="chat-get_project_conversations",
        summary="Your conversations on a project",
        description=BARE_LIST + " 404 when you may not view the project.",
        parameters=[
            OpenApiParameter(
                "conversation_id",
                OpenApiTypes.UUID,
                OpenApiParameter.PATH,
                description="The **project** id (upstream's path shape).",
            ),
            *SKIP_LIMIT,
        ],
        responses=ChatConversationDetailSerializer(many=True),
    )
    def project_conversations(self, request: Request, conversation_id: str) -> Response:
        user = cast(User, request.user)
        team_id = request_team(request).pk
        project = project_get(user=user, project_id=conversation_id, team_id=team_id)
        if project is None:
            raise NotFound(PROJECT_NOT_FOUND)
        return self._bounded(conversation_list(user=user, project_id=project.pk, team_id=team_id))

    @extend_schema(
        operation_id="chat-create_conversation",
        summary="Start a conversation",
        description="404 when `project_id` names a project you may not view.",
        responses={
            201: ChatConversationDetailSerializer,
            404: OpenApiResponse(description="`project_id` names a project you may not view."),
        },
    )
    def create(self, request: Request) -> Response:
        serializer = ChatConversationSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conversation = services.conversation_create(
            user=cast(User, request.user), team=request_team(request), **serializer.validated_data
        )
        return Response(self._detail(conversation), status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="chat-get_conversation",
        summary="A conversation with its messages and their references",
        responses=ChatConversationDetailSerializer,
    )
    def retrieve(self, request: Request, conversation_id: str) -> Response:
        return Response(ChatConversationDetailSerializer(self.get_object()).data)

    @extend_schema(
        operation_id="chat-delete_conversation",
        summary="Delete a conversation",
        responses={200: MessageSerializer},
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().destroy(request, *args, **kwargs)

    def perform_destroy(self, instance: Any) -> None:
        services.conversation_delete(conversation=instance)

    @extend_schema(
        operation_id="chat-update_conversation_title",
        summary="Rename a conversation",
        description="`title` as a query parameter (upstream) or in a JSON body. A title set "
        "here is never replaced by `generate-title`.",
        parameters=[OpenApiParameter("title", OpenApiTypes.STR, required=False)],
        request=ChatConversationTitleSerializer,
        responses=ChatConversationDetailSerializer,
    )
    def title(self, request: Request, conversation_id: str) -> Response:
        body = request.data
        if not isinstance(body, Mapping):  # `0.2` or `[]`: the usual 422 for a non-object
            ChatConversationTitleSerializer(data=body).is_valid(raise_exception=True)
        data = body if "title" in body else request.query_params
        serializer = ChatConversationTitleSerializer(data={"title": data.get("title")})
        serializer.is_valid(raise_exception=True)
        conversation = services.conversation_rename(
            conversation=self.get_object(), title=serializer.validated_data["title"]
        )
        return Response(self._detail(conversation))

    @extend_schema(
        operation_id="chat-generate_conversation_title",
        summary="Name the conversation from its first exchange, in the background",
        description="Returns the conversation with `title_generation_task_id` to poll, and "
        "upstream's `message`.",
        request=None,
        responses=ChatTitleGenerationSerializer,
    )
    def generate_title(self, request: Request, conversation_id: str) -> Response:
        conversation = services.conversation_request_title(conversation=self.get_object())
        return Response(self._detail(conversation, message="Title generation started"))

    @extend_schema(
        operation_id="chat-create_message",
        summary="Ask: your message in, the assistant's answer (with references) out",
        request=ChatMessageCreateSerializer,
        responses={201: ChatMessageSerializer, **FAILURES},
    )
    def messages(self, request: Request, conversation_id: str) -> Response:
        plan = self._ask(request)
        try:
            with self._usage(request, plan):
                answer = services.answer_generate(plan=plan)
        except LLMError as error:
            raise api_error(error) from error
        return Response(ChatMessageSerializer(answer).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="chat-stream_message",
        summary="Ask, with the answer streamed as server-sent events",
        description="`text/event-stream`: one `references` event, `delta` events "
        "(`{text}`), then `done` with the saved message, or `error` (`{status, detail}`) "
        "when the model fails mid-answer, in which case nothing is saved. Failures before "
        "the first token answer 429/502/504 like the non-streaming route.",
        request=ChatMessageCreateSerializer,
        responses={
            (200, "text/event-stream"): OpenApiResponse(SSE_EVENT),
            **FAILURES,
        },
    )
    def stream(self, request: Request, conversation_id: str) -> StreamingHttpResponse:
        plan = self._ask(request)
        if not connection.in_atomic_block:
            connection.close()  # nothing is read or written until the final save
        model = get_chat_model()
        with self._usage(request, plan):
            meter = Meter("stream_answer", model, input_estimate=plan.prompt.estimated_tokens)
        stream = ModelStream(
            model.stream(
                plan.prompt.messages,
                max_tokens=plan.max_tokens,
                temperature=plan.temperature,
                passages=plan.prompt.passages,
            ),
            meter,
        )
        first = stream.get()
        if isinstance(first, BaseException):
            meter.finish("error")
            if isinstance(first, LLMError):
                raise api_error(first) from first
            raise first
        # The body's kind follows the server: an async generator under ASGI, a plain one
        # under WSGI (Django would otherwise buffer an async body whole, or run a sync
        # one in ASGI's single thread for sync code).
        events = answer_events if isinstance(request._request, ASGIRequest) else answer_events_sync
        response = StreamingHttpResponse(
            events(plan, stream, cast(Any, first)), content_type="text/event-stream"
        )
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx would otherwise buffer the stream
        return response

    def _usage(self, request: Request, plan: services.AnswerPlan) -> AbstractContextManager[None]:
        return request_usage(
            request, conversation_id=plan.conversation_id, project_id=plan.project_id
        )

    def _ask(self, request: Request) -> services.AnswerPlan:
        conversation = self.get_object()
        serializer = ChatMessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # Under ASGI a client that leaves cancels the retrieval query at once, and the
        # model is never asked; elsewhere the statement timeout bounds the query.
        gone = client_gone(request)
        team = team_for_request(request)
        try:
            usage = request_usage(
                request, conversation_id=conversation.pk, project_id=conversation.project_id
            )
            with cancel_queries_when_gone(gone), usage:
                _, plan = services.message_ask(
                    conversation=conversation,
                    user=cast(User, request.user),
                    content=data["content"],
                    use_documents=data["use_documents"],
                    document_ids=data["document_ids"],
                    team=team,
                )
        except OperationalError:
            if gone is None or not gone.is_set():
                raise
        if gone is not None and gone.is_set():
            logger.info("the client left while its question was prepared; the model is not asked")
            raise ClientClosedRequest()
        # The daily messages as X-RateLimit-* headers, unless an API key's rate is shown.
        if getattr(request._request, "rate_limit", None) is None:
            request._request.rate_limit = chat_messages_window(team)  # type: ignore[attr-defined]
        return plan
