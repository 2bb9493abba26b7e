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

A request made with an API key (`request.auth` is an `apps.apikeys` ApiKey) holds a model
permission only if the key's scopes name it AND its creator holds it now (`has_perm`):
`request_has_perm` is the one check, and the scope test is a set lookup on the key row
authentication already read, layered over whatever `has_perm` does (caches included).
Superuser status does not travel with a key beyond its scopes: `acts_as_superuser` is
false for key requests, so endpoints open only to superusers refuse them (403), as do
those that `PersonOnly` guards (key management, password, email, rights).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Model, QuerySet
from django.http import Http404
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from launch.api.teams import request_team
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


def credential_scopes(request: Request) -> frozenset[str] | None:
    """The scopes the request's credential is limited to: None for a person's session
    (JWT or cookie), which is limited by nothing but the user's own rights."""
    auth = getattr(request, "auth", None)
    if not getattr(auth, "limits_scopes", False):
        return None
    return frozenset(auth.scopes)  # type: ignore[union-attr]


def is_api_key_request(request: Request) -> bool:
    return credential_scopes(request) is not None


def request_has_perm(request: Request, perm: str) -> bool:
    """Whether the request may use model permission `perm` (`app_label.codename`): the
    user holds it (superusers hold all) and, for an API key, the key's scopes name it."""
    user = request.user
    if not user or not user.is_authenticated:
        return False
    scopes = credential_scopes(request)
    if scopes is not None and perm not in scopes:
        return False
    return bool(user.is_superuser or user.has_perm(perm))


def acts_as_superuser(request: Request) -> bool:
    """A superuser signed in as a person; a superuser's API key is only its scopes."""
    user = request.user
    return bool(user and user.is_authenticated and user.is_superuser) and not (
        is_api_key_request(request)
    )


class PersonOnly(BasePermission):
    """Refuses (403) requests made with an API key: keys authenticate programs, and
    programs do not manage keys, passwords, email addresses or rights."""

    message = "API keys may not do this; sign in as the user instead."

    def has_permission(self, request: Request, view: Any) -> bool:
        return not is_api_key_request(request)


class PersonOnlyToChange(PersonOnly):
    """Reads stay open to keys (within their scopes); changes are refused."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or super().has_permission(request, view)


def permission_model(view: Any) -> type[Model]:
    """The model whose permissions guard `view`: `permission_model`, else the model of
    the declared `queryset` (a viewset's `get_queryset` keeps that model; building it,
    annotations and all, only to read its model cost ~5% of an items list's CPU), else
    the model of `get_queryset()`."""
    declared = getattr(view, "permission_model", None)
    if declared is not None:
        return declared
    queryset = getattr(view, "queryset", None)
    if isinstance(queryset, QuerySet):
        return queryset.model
    return view.get_queryset().model


class ModelPermission(BasePermission):
    """Model layer only: for resources without object grants (roles, the catalog)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False  # DRF answers 401, since the request carried no credentials
        action = required_action(request, view)
        if not action:
            return acts_as_superuser(request)
        model = permission_model(view)
        perm = f"{model._meta.app_label}.{action}_{model._meta.model_name}"
        if not request_has_perm(request, perm):
            return False
        if action == "add" and has_team(model):
            # Creating puts the row in the current team: its team role must carry `add`.
            return request_team(request).has_perm(perm)
        return True


def has_team(model: type[Model]) -> bool:
    return any(field.name == "team" for field in model._meta.concrete_fields)


class ObjectPermission(ModelPermission):
    """Model layer, then, on a row of the current team, the user's team role's object
    permissions on the model and its object grants on the row (a row of another team is
    a 404)."""

    def has_object_permission(self, request: Request, view: Any, obj: Model) -> bool:
        if has_team(type(obj)):
            held = object_actions_of(request.user, obj, team_id=request_team(request).pk)
        else:
            held = object_actions_of(request.user, obj)
        if "view" not in held:
            raise Http404
        return required_action(request, view) in held
