"""The activity log: django-auditlog wired to Launch.

- Which models are tracked (`TRACKED`), registered lazily so apps that land later are
  covered without touching this list again.
- Who did it: the request's user, resolved when the entry is written, so users who
  authenticated with a JWT inside DRF (after the middleware ran) are recorded too.
- Which request: our `X-Request-ID` is auditlog's correlation id (`cid`).
- Management commands and tasks have no request: `system_activity()` marks their entries
  with `additional_data = {"source": ..., ...}` and an optional actor.
- Which team: every entry about a team-owned object (its `team_id`, or its project's for
  a document), and every change of rights on a team, carries `additional_data["team"]`
  (the team's id as a string), so a team's own log is one indexed read
  (`selectors.team_activity_list`; the index is `operations.0003`).
- Changes of rights (object grants, role membership, role and user permissions, staff
  and superuser flags) are not left to auditlog's signals: the services that make them
  call `record_rights_change()`, which writes one entry with the actor, the target and
  the rights before and after, marked `additional_data["rights"]`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from auditlog.context import set_extra_data
from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model
from django.db.models.signals import post_delete, pre_save
from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from launch.middleware import request_id_var

# On any tracked model, a change of these shows that it happened, never a value (nor a
# part of it: auditlog's default mask keeps half of the string).
SECRET_FIELDS = ("password", "api_key", "secret", "token")
MASK = "[secret]"

# app_label.model -> auditlog.register options.
# Role membership (`users.user.groups`) and role permissions (`auth.group.permissions`)
# are recorded by the services with before and after (`record_rights_change`), so
# auditlog's m2m signals, which see only one side of each change, are not used for them.
TRACKED: dict[str, dict[str, Any]] = {
    "users.user": {"exclude_fields": ["last_login"]},
    "auth.group": {},
    "rbac.roleprofile": {},
    "items.item": {"m2m_fields": {"tags"}},
    "tags.tag": {},
    "projects.project": {},
    # Progress counters change per batch while processing: noise, not activity.
    "projects.document": {"exclude_fields": ["processed_chunks"]},
    # Conversations, not their messages: message text is private and high-volume.
    "chat.chatconversation": {},
}

# Successful requests to these paths count as usage on the control room (searches write
# no row of their own; chat volume is counted from the messages themselves). Each one
# appends a UsageEvent row, rolled up into the daily counters by beat.
USAGE_PATHS = {"search": re.compile(r"^/api/v1/(?:[^/]+/)*search/?$")}

# What `system_activity` adds to every entry written inside its block.
_source_data: ContextVar[dict[str, Any] | None] = ContextVar("activity_source", default=None)


def entry_team_id(instance: Model) -> str | None:
    """The team an entry about `instance` belongs to, as a string: a team itself, the
    object's `team_id`, else its project's (documents). None for what no team owns
    (users, global roles)."""
    from apps.teams.models import Team

    if isinstance(instance, Team):
        return str(instance.pk)
    team_id = getattr(instance, "team_id", None)
    if team_id is None and getattr(instance, "project_id", None) is not None:
        try:
            team_id = getattr(instance.project, "team_id", None)  # type: ignore[attr-defined]
        except ObjectDoesNotExist:  # deleted with its project
            team_id = None
    return None if team_id is None else str(team_id)


def _with_team(
    own: Callable[[Any], dict[str, Any] | None] | None,
) -> Callable[[Any], dict[str, Any] | None]:
    """A tracked model's `get_additional_data` (auditlog calls it for every entry about
    the instance, m2m changes included): the model's own data, if it defines any, plus
    the instance's team."""

    def get_additional_data(instance: Any) -> dict[str, Any] | None:
        data = dict(own(instance) or {}) if own is not None else {}
        team = entry_team_id(instance)
        if team is not None:
            data.setdefault("team", team)
        return data or None

    get_additional_data.adds_team = True  # type: ignore[attr-defined]
    return get_additional_data


def register_tracked_models() -> list[str]:
    """Register every tracked model whose app is installed; returns their labels."""
    registered = []
    for label, options in TRACKED.items():
        try:
            model = apps.get_model(label)
        except LookupError:
            continue  # its app is not installed (yet)
        if not auditlog.contains(model):
            auditlog.register(
                model,
                mask_fields=list(SECRET_FIELDS),
                mask_callable="apps.operations.activity.mask_secret",
                **options,
            )
        # auditlog's one hook for per-entry data is a model method; the tracked models
        # belong to other apps, so the team is added here, once, wrapping any their
        # authors define.
        own = getattr(model, "get_additional_data", None)
        if not getattr(own, "adds_team", False):
            model.get_additional_data = _with_team(own)
        registered.append(label)
    pre_save.connect(_add_source, sender=LogEntry, dispatch_uid="activity-source")
    # After auditlog's own post_delete receiver, so it also clears the entry that records
    # this very deletion.
    post_delete.connect(
        _forget_deleted_actor, sender=settings.AUTH_USER_MODEL, dispatch_uid="activity-actor"
    )
    return registered


def _forget_deleted_actor(sender: Any, instance: Any, **kwargs: Any) -> None:
    """A user who deleted themselves is the actor of entries written after the database
    set their other entries' actor to NULL; clear those too. `actor_email` keeps who."""
    LogEntry.objects.filter(actor_id=instance.pk).update(actor=None)


def mask_secret(value: str) -> str:
    return MASK


def current_request_id() -> str | None:
    """AUDITLOG_CID_GETTER: the id RequestIdMiddleware set (None outside a request)."""
    return request_id_var.get() or None


def _request_actor(request: HttpRequest) -> Any:
    user = getattr(request, "user", None)
    return user if user is not None and user.is_authenticated else None


class ActivityMiddleware(AuditlogMiddleware):
    """auditlog's middleware, with the actor read when an entry is saved rather than
    when the request enters: DRF authenticates JWTs inside the view and then stores the
    user on the Django request. Also counts search and chat requests for the dashboard."""

    @staticmethod
    def _get_actor(request: HttpRequest) -> Any:
        return SimpleLazyObject(lambda: _request_actor(request))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = super().__call__(request)
        if request.method in {"GET", "POST"} and 200 <= response.status_code < 300:
            for name, pattern in USAGE_PATHS.items():
                if pattern.match(request.path):
                    from apps.operations.services import usage_record

                    usage_record(name=name)
        return response


@contextmanager
def system_activity(source: str, name: str, actor: Any = None) -> Iterator[None]:
    """Attribute entries written inside the block to a command or task (`source` is
    "command" or "task") and, when there is one, to the user who ran it.

    The source is merged into each entry's own `additional_data` (`_add_source`), where
    auditlog's context would replace it, and with it the entry's team."""
    token = _source_data.set({"source": source, source: name})
    try:
        with set_extra_data(context_data={"actor": actor}):
            yield
    finally:
        _source_data.reset(token)


def _add_source(sender: Any, instance: LogEntry, **kwargs: Any) -> None:
    source = _source_data.get()
    if source:
        instance.additional_data = {**source, **(instance.additional_data or {})}


def record_rights_change(
    *,
    actor: Any,
    target: Model,
    kind: str,
    changes: dict[str, tuple[Any, Any]],
    **details: Any,
) -> LogEntry:
    """Write one activity entry for a change of rights on `target` (a user, a role, or
    the object a grant is on): `changes` maps what changed to (before, after), `kind`
    says which right ("grants", "roles", "role_permissions", "user_permissions",
    "flags"), `details` go to `additional_data` beside it.

    `actor` None means the request's user, or the system (a command or a task). The
    entry carries `target`'s team (`entry_team_id`) when it has one.
    Side effects: one LogEntry row.
    """
    data = {"rights": kind, **details}
    team = entry_team_id(target)
    if team is not None:
        data["team"] = team
    entry: LogEntry = LogEntry.objects.log_create(
        target,
        force_log=True,
        action=LogEntry.Action.UPDATE,
        changes={name: [before, after] for name, (before, after) in changes.items()},
        actor=actor,
        actor_email=getattr(actor, "email", None),
        additional_data=data,
    )
    return entry
