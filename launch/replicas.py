"""Read replicas: which database serves a query, keeping read-your-writes.

Installed only when `DATABASE_REPLICA_URLS` names replicas (settings add the router and
the middleware then); without them nothing here runs.

Every query goes to the primary unless the code says its reads tolerate a little lag:
`replica_reads()` around a block (search, control-room counts), or
`allow_replica_reads()` for the rest of a request (list actions, once authentication and
permission checks have read the primary). Even then a read goes to the primary when

- a write went to the primary earlier in the same request or block (the router sees
  every write: `db_for_write`), or the primary is inside a transaction;
- the same user wrote within `DATABASE_REPLICA_PIN_SECONDS`: the middleware answers a
  request that wrote with a cookie and a cache marker for its user, so the next
  requests, on any web process, read the primary until the replicas have caught up;
- no replica accepts a connection: a replica that refuses one is skipped for
  `DATABASE_REPLICA_RETRY_SECONDS` (per process), and its reads go to the primary.

Bookkeeping writes (`DATABASE_REPLICA_UNPINNED_MODELS`: activity log, usage events,
issued tokens) do not pin: nobody reads them back at once, and counting a search would
otherwise send the searcher's next search to the primary.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

PIN_COOKIE = "launch_primary_until"
PIN_CACHE_KEY = "launch:primary-until:{user_id}"


@dataclass
class RoutingState:
    """What the router knows about the current request (or `replica_reads` block)."""

    request: HttpRequest | None = None
    replica_reads: bool = False  # the code says these reads tolerate lag
    wrote: bool = False  # something was written to the primary since the start
    pinned: bool | None = None  # this user wrote recently; None until looked up
    replica: str | None = None  # one replica per request: a page and its count agree


_state: ContextVar[RoutingState | None] = ContextVar("launch_db_routing", default=None)
# alias -> time.monotonic() before which the replica is not tried again (this process)
_down_until: dict[str, float] = {}


def replicas() -> list[str]:
    return list(settings.DATABASE_REPLICAS)


@contextlib.contextmanager
def replica_reads() -> Iterator[None]:
    """Reads inside this block may be served by a replica (see the module docstring)."""
    state = _state.get()
    token = None
    if state is None:  # outside a request: a state for this block only
        state = RoutingState()
        token = _state.set(state)
    previous = state.replica_reads
    state.replica_reads = True
    try:
        yield
    finally:
        state.replica_reads = previous
        if token is not None:
            _state.reset(token)


def allow_replica_reads() -> None:
    """The rest of the current request's reads may be served by a replica. Outside a
    request routed by `ReplicaPinMiddleware` (no replicas configured) this does nothing."""
    state = _state.get()
    if state is not None and state.request is not None:
        state.replica_reads = True


def _unpinned(model: type[Model]) -> bool:
    return model._meta.label_lower in settings.DATABASE_REPLICA_UNPINNED_MODELS


def _user_id(request: HttpRequest | None) -> Any:
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


def _pinned(state: RoutingState) -> bool:
    """Whether this request's user wrote within the pin window (cookie or cache marker)."""
    if state.pinned is not None:
        return state.pinned
    request = state.request
    if request is None:
        return False
    pinned = False
    with contextlib.suppress(ValueError):  # a mangled cookie pins nothing
        pinned = float(request.COOKIES.get(PIN_COOKIE) or 0) > time.time()
    user_id = _user_id(request)
    if not pinned and user_id is not None:
        try:
            until = caches["default"].get(PIN_CACHE_KEY.format(user_id=user_id))
        except Exception:  # the cache is down: the primary is always consistent
            logger.warning("the cache is unavailable; reading from the primary", exc_info=True)
            until = float("inf")
        pinned = bool(until) and float(until) > time.time()
    state.pinned = pinned
    return pinned


def replica_usable(alias: str) -> bool:
    """Connect (or health-check the open connection); on failure skip `alias` for
    DATABASE_REPLICA_RETRY_SECONDS in this process."""
    now = time.monotonic()
    if _down_until.get(alias, 0.0) > now:
        return False
    connection = connections[alias]
    try:
        connection.close_if_health_check_failed()
        connection.ensure_connection()
    except DatabaseError as error:
        retry = float(settings.DATABASE_REPLICA_RETRY_SECONDS)
        _down_until[alias] = now + retry
        logger.warning(
            "replica %s is unavailable (%s); reading from the primary for %gs",
            alias,
            str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__,
            retry,
        )
        with contextlib.suppress(DatabaseError):
            connection.close()
        return False
    _down_until.pop(alias, None)
    return True


def _choose_replica(state: RoutingState) -> str:
    if state.replica is None:
        candidates = replicas()
        random.shuffle(candidates)
        state.replica = next(
            (alias for alias in candidates if replica_usable(alias)), DEFAULT_DB_ALIAS
        )
    return state.replica


class ReplicaRouter:
    """Writes and ordinary reads to the primary; lag-tolerant reads to a replica."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        state = _state.get()
        if state is None or not state.replica_reads or state.wrote:
            return DEFAULT_DB_ALIAS
        if connections[DEFAULT_DB_ALIAS].in_atomic_block or _pinned(state):
            return DEFAULT_DB_ALIAS
        return _choose_replica(state)

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        state = _state.get()
        if state is not None and not _unpinned(model):
            state.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        ours = {DEFAULT_DB_ALIAS, *replicas()}
        if obj1._state.db in ours and obj2._state.db in ours:
            return True  # the same rows, whichever copy they were read from
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        if db in replicas():
            return False  # replicas follow the primary's WAL, migrations included
        return None


class ReplicaPinMiddleware:
    """Routing state per request; after a request that wrote, pins its user to the
    primary for DATABASE_REPLICA_PIN_SECONDS (cookie for browsers, a cache marker by
    user id for every client, so another web process honours it too)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        state = RoutingState(request=request)
        token = _state.set(state)
        try:
            response = self.get_response(request)
        finally:
            _state.reset(token)
        if state.wrote:
            self._pin(request, response)
        return response

    @staticmethod
    def _pin(request: HttpRequest, response: HttpResponse) -> None:
        seconds = int(settings.DATABASE_REPLICA_PIN_SECONDS)
        if seconds <= 0:
            return
        until = math.ceil(time.time() + seconds)
        response.set_cookie(
            PIN_COOKIE,
            str(until),
            max_age=seconds,
            httponly=True,
            secure=bool(settings.AUTH_COOKIE_SECURE),
            samesite=settings.AUTH_COOKIE_SAMESITE,
        )
        user_id = _user_id(request)
        if user_id is None:
            return
        try:
            caches["default"].set(PIN_CACHE_KEY.format(user_id=user_id), until, timeout=seconds)
        except Exception:
            logger.warning("could not record the primary pin of user %s", user_id, exc_info=True)
