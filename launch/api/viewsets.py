"""Base viewsets: every app's viewset inherits pagination, filtering, the error envelope
and the contract's response shapes (201 on create, `{"message"}` on delete).

They also bring both permission layers and the object-permission list filter, so an app
cannot forget them; a viewset over a model without object grants (roles, users) opts out
visibly by declaring its own `permission_classes` and `filter_backends`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import mixins, status, viewsets
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from launch.api.filters import ObjectPermissionFilter, QueryFilterBackend, StableOrderingFilter
from launch.api.permissions import ObjectPermission, has_team
from launch.api.teams import request_team
from launch.permissions import in_team, perm_models, with_object_actions
from launch.replicas import allow_replica_reads


class DeleteMessageMixin:
    """DELETE answers 200 `{"message": "<Model> deleted successfully"}` as upstream does."""

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        self.perform_destroy(instance)
        name = instance._meta.verbose_name.capitalize()
        return Response({"message": f"{name} deleted successfully"}, status=status.HTTP_200_OK)

    def perform_destroy(self, instance: Model) -> None:
        # Deletes go through the app's service (grants, files, vectors, activity), never
        # straight to the ORM from a view.
        raise NotImplementedError(f"{type(self).__name__} must delete through its service.")


def _default_filter_backends() -> list[Any]:
    replacements = {OrderingFilter: StableOrderingFilter, DjangoFilterBackend: QueryFilterBackend}
    backends = [replacements.get(b, b) for b in api_settings.DEFAULT_FILTER_BACKENDS]
    return [ObjectPermissionFilter, *backends]


def _team_through_project(model: type[Model]) -> bool:
    project = next((f for f in model._meta.concrete_fields if f.name == "project"), None)
    return project is not None and has_team(project.related_model)  # type: ignore[arg-type]


class LaunchGenericViewSet(viewsets.GenericViewSet):
    lookup_value_converter = "uuid"
    permission_classes = [ObjectPermission]
    filter_backends = _default_filter_backends()
    # Set per route with `@action(..., permission_action="share")`, or per method of the
    # route with a mapping; None means the HTTP method's action (view/add/change/delete).
    permission_action: str | Mapping[str, str] | None = None
    # Actions whose reads tolerate a little replica lag (launch/replicas.py): served by a
    # read replica, when configured, after authentication and permissions read the primary.
    replica_actions: frozenset[str] = frozenset({"list"})
    # Works in the current team (`X-Team-ID`, documented on each operation): by default
    # when its model has a team (or its documents' project does); roles, users and keys
    # do not.
    team_scoped: bool | None = None

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if self.team_scoped is None:
            model = getattr(self.queryset, "model", None)
            scoped = model is not None and (has_team(model) or _team_through_project(model))
            self.team_scoped = scoped

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """On a detail route checked by `ObjectPermission`, the user's object actions are
        read with the row (no query of their own), and they decide its visibility:
        `ObjectPermission` answers 404 without `view`, as the grant filter would. The
        grant filter is then not applied twice."""
        if not self._actions_read_with_row(queryset):
            return super().filter_queryset(queryset)
        for backend in self.filter_backends:
            if backend is not ObjectPermissionFilter:
                queryset = backend().filter_queryset(self.request, queryset, self)
        # A row of another team is absent (404), whatever grants exist on it.
        if has_team(queryset.model):
            queryset = in_team(queryset, request_team(self.request).pk)
        return with_object_actions(self.request.user, queryset)

    def _actions_read_with_row(self, queryset: QuerySet[Any]) -> bool:
        if (self.lookup_url_kwarg or self.lookup_field) not in self.kwargs:
            return False
        if not any(
            isinstance(p, type) and issubclass(p, ObjectPermission) for p in self.permission_classes
        ):
            return False
        try:
            perm_models(queryset.model)
        except ImproperlyConfigured:  # a model without grant tables
            return False
        return True

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.team_scoped and request.user.is_authenticated:
            request_team(request)  # a bad X-Team-ID is a 404 on every route of the view
        if self.action in self.replica_actions:
            allow_replica_reads()


class LaunchModelViewSet(
    DeleteMessageMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.ListModelMixin,
    LaunchGenericViewSet,
):
    pass
