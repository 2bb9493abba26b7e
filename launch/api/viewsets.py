"""Base viewsets: every app's viewset inherits pagination, filtering, the error envelope
and the contract's response shapes (201 on create, `{"message"}` on delete)."""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from rest_framework import mixins, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response


class DeleteMessageMixin:
    """DELETE answers 200 `{"message": "<Model> deleted successfully"}` as upstream does."""

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        self.perform_destroy(instance)  # type: ignore[attr-defined]
        name = instance._meta.verbose_name.capitalize()
        return Response({"message": f"{name} deleted successfully"}, status=status.HTTP_200_OK)

    def perform_destroy(self, instance: Model) -> None:
        instance.delete()


class LaunchGenericViewSet(viewsets.GenericViewSet):  # type: ignore[type-arg]
    lookup_value_converter = "uuid"


class LaunchModelViewSet(
    DeleteMessageMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    LaunchGenericViewSet,
):
    pass
