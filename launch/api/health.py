"""`/utils/health-check/` and `/utils/test-email/`.

The health check is what a load balancer or orchestrator polls: it answers 200 only
when the database and the Celery broker both answer, and 503 naming the one that does
not, so a broken instance is taken out of rotation instead of serving errors.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import connection
from django.template.loader import render_to_string
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.users.permissions import IsSuperuser
from apps.users.serializers import MessageSerializer
from launch.api.exceptions import QueryValidationError, ServiceUnavailable

logger = logging.getLogger("launch.api")
BROKER_TIMEOUT_SECONDS = 2.0


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_broker() -> None:
    from config.celery import app

    with app.connection_for_write(connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)


CHECKS: dict[str, Callable[[], None]] = {"database": check_database, "broker": check_broker}

HealthSerializer = inline_serializer(
    "HealthCheck",
    {
        "status": serializers.CharField(),
        "version": serializers.CharField(),
        "message": serializers.CharField(),
        "deployment": serializers.CharField(),
        "checks": serializers.DictField(child=serializers.CharField()),
    },
)


class HealthCheckView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="utils-health_check",
        tags=["utils"],
        responses={200: HealthSerializer, 503: HealthSerializer},
    )
    def get(self, request: Request) -> Response:
        checks: dict[str, str] = {}
        for name, check in CHECKS.items():
            try:
                check()
            except Exception as exc:
                # Any failure of a dependency means "unhealthy"; the reason goes to the log.
                logger.warning("health check %s failed: %s", name, exc)
                checks[name] = "unavailable"
            else:
                checks[name] = "ok"
        failing = [name for name, state in checks.items() if state != "ok"]
        body = {
            "status": "unavailable" if failing else "ok",
            "version": settings.SPECTACULAR_SETTINGS.get("VERSION", ""),
            "message": "Unavailable: " + ", ".join(failing) if failing else "All systems go",
            "deployment": "debug" if settings.DEBUG else "production",
            "checks": checks,
        }
        if failing:
            body["detail"] = f"Unavailable: {', '.join(failing)}"
            return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response(body)


class TestEmailView(APIView):
    permission_classes = [IsSuperuser]

    @extend_schema(
        operation_id="utils-test_email",
        tags=["utils"],
        request=None,
        parameters=[OpenApiParameter("email_to", OpenApiTypes.EMAIL, required=True)],
        responses={201: MessageSerializer},
    )
    def post(self, request: Request) -> Response:
        email_to = request.query_params.get("email_to", "")
        try:
            validate_email(email_to)
        except DjangoValidationError:
            raise QueryValidationError({"email_to": ["Enter a valid email address."]}) from None
        context = {"project_name": settings.PROJECT_NAME, "email": email_to}
        message = EmailMultiAlternatives(
            f"{settings.PROJECT_NAME} - Test email",
            render_to_string("users/email/test_email.txt", context),
            to=[email_to],
        )
        html = render_to_string("users/email/test_email.html", context)
        message.attach_alternative(html, "text/html")
        try:
            message.send()
        except OSError as exc:
            logger.warning("test email failed: %s", exc)
            raise ServiceUnavailable("The email server is unavailable.") from exc
        return Response({"message": "Test email sent"}, status=status.HTTP_201_CREATED)
