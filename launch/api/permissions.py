"""The two permission layers every viewset inherits (see DESIGN.md, "Permissions").

- Model layer (`ModelPermission`): the user's roles must hold the action's model
  permission (`items.view_item` for GET, `add` for POST, `change` for PUT/PATCH, `delete`
  for DELETE), else 403; anonymous requests get 401.
- Object layer (`ObjectPermission`, the default): on a row, guardian grants decide; no
  `view` -> 404 (the row's existence is not revealed), `view` but not the action -> 403.

Superusers pass both. Staff status grants nothing here: it only opens the admin.
A custom action names its permission with `@action(..., permission_action="share")`, or
per HTTP method of its route, `permission_action={"POST": "change"}` (the other methods
keep their own).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Model
from django.http import Http404
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from launch.permissions import object_actions_of

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def required_action(request: Request, view: Any) -> str:
    """The permission action a request needs: the view's override, else its method's."""
    method = request.method or ""
    override = getattr(view, "permission_action", None)
    if isinstance(override, Mapping):
        override = override.get(method)
    return override or METHOD_ACTIONS.get(method, "")


def permission_model(view: Any) -> type[Model]:
    return getattr(view, "permission_model", None) or view.get_queryset().model


class ModelPermission(BasePermission):
    """Model layer only: for resources without object grants (roles, the catalog)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False  # DRF answers 401, since the request carried no credentials
        if user.is_superuser:
            return True
        action = required_action(request, view)
        if not action:
            return False
        opts = permission_model(view)._meta
        return bool(user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"))


class ObjectPermission(ModelPermission):
    """Model layer, then guardian's object grants on the row."""

    def has_object_permission(self, request: Request, view: Any, obj: Model) -> bool:
        held = object_actions_of(request.user, obj)
        if "view" not in held:
            raise Http404
        return required_action(request, view) in held
