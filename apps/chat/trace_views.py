"""The RAG debugger's API: an answer's trace as JSON, for staff only."""

from __future__ import annotations

from typing import cast

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.chat.models import AnswerTrace
from apps.chat.services.traces import trace_for
from apps.users.models import User
from launch.api.permissions import PersonOnly
from launch.api.teams import request_team


class AnswerTraceSerializer(serializers.ModelSerializer[AnswerTrace]):
    message_id = serializers.UUIDField(read_only=True)
    data = serializers.JSONField(  # type: ignore[assignment]
        read_only=True,
        help_text="question, retrieval (query, mode, strategy, embedding_version, "
        "candidates with semantic/keyword/fused ranks and scores), sent chunks, model, "
        "prompt_tokens, completion_tokens, timings_ms.",
    )

    class Meta:
        model = AnswerTrace
        fields = ["message_id", "data", "created_at"]
        read_only_fields = fields


class MessageTraceView(APIView):
    """Staff only (403 otherwise); staff who are not superusers see the traces of the
    conversations their grants let them see (404 for the others). Not with an API key:
    staff status opens staff tools to the person, not to a program (403)."""

    permission_classes = [IsAdminUser, PersonOnly]
    team_scoped = True

    @extend_schema(
        operation_id="chat-get_message_trace",
        summary="How an answer was produced (RAG debugger; staff only)",
        responses={
            200: AnswerTraceSerializer,
            403: OpenApiResponse(description="Not staff."),
            404: OpenApiResponse(description="No such answer, or not visible to you."),
        },
    )
    def get(self, request: Request, message_id: str) -> Response:
        trace = trace_for(
            user=cast(User, request.user),
            message_id=message_id,
            team_id=request_team(request).pk,
        )
        return Response(AnswerTraceSerializer(trace).data)

    def get_view_name(self) -> str:
        return "Answer trace"
