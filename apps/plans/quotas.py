"""Quotas: a team's plan checked before the work starts (docs/usage.md, "Plans and quotas").

| limit | counted | refused with |
|---|---|---|
| documents, storage bytes | the team's Document rows, under a lock on the team row | 403 |
| tokens per month | the ledger's sum, kept in the cache between reconciliations | 429 |
| chat messages per day | a counter in the cache, seeded from the stored messages | 429 |
| API-key requests per minute | a fixed window counted in the cache | 429 |

Counters live in the default cache, which every process shares in production (Redis):
`add` and `incr` are atomic there (INCR), so parallel requests never both take the last
unit. A counter the cache loses (eviction, restart) is seeded again from the database.

Which team a request or a project counts against is decided here and nowhere else
(`team_for_request`, `team_for_project`).
"""

from __future__ import annotations

import datetime
import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Count, F, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from apps.plans.models import (
    API_KEY_REQUESTS_PER_MINUTE,
    CHAT_MESSAGES_PER_DAY,
    DOCUMENTS,
    STORAGE_BYTES,
    TOKENS_PER_MONTH,
    Plan,
)
from apps.teams.models import Membership, Team
from launch.config import SettingsConfig
from launch.errors import QuotaExceeded, RateLimited

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class QuotaConfig(SettingsConfig):
    PREFIX = "USAGE_"

    default_plan: str
    quota_reconcile_seconds: int


# --- Which team ------------------------------------------------------------------------


def team_for_user(user_id: Any) -> Team | None:
    """The user's default team, with its plan (one query)."""
    membership = (
        Membership.objects.select_related("team__plan")
        .filter(user_id=user_id, is_default=True)
        .first()
    )
    return membership.team if membership else None


def team_for_request(request: Any, *, user: Any = None, key: Any = None) -> Team | None:
    """The team a request's quotas count against: its current team (`X-Team-ID`, else
    the user's default team; launch.api.teams). While an API-key request is being
    authenticated (`user` and `key` given, `request.user` not set yet), a team key's
    team, else the key owner's default team: a personal key's per-minute rate is its
    owner's default team's."""
    if key is not None:
        if getattr(key, "team_id", None) is not None:
            return Team.objects.select_related("plan").filter(pk=key.team_id).first()
        return team_for_user(user.pk) if user is not None else None
    user = user if user is not None else request.user
    if user is None or not user.is_authenticated:
        return None
    from launch.api.teams import request_team

    return Team.objects.select_related("plan").filter(pk=request_team(request).pk).first()


def team_for_project(project: Any) -> Team | None:
    """The team a project's documents count against: the project's."""
    return Team.objects.select_related("plan").filter(pk=project.team_id).first()


def plan_of(team: Team | None) -> Plan | None:
    """The team's plan, or the default plan (USAGE_DEFAULT_PLAN) when it has none; None
    (no limits) without a team, or when the default plan does not exist."""
    if team is None:
        return None
    if team.plan_id is not None:
        return team.plan
    key = QuotaConfig.from_settings().default_plan
    plan = Plan.objects.filter(key=key).first()
    if plan is None:
        _warn_no_default_plan(key)
    return plan


@functools.cache
def _warn_no_default_plan(key: str) -> None:
    logger.warning("USAGE_DEFAULT_PLAN names no plan (%r): no limits apply", key)


# --- What a team holds: documents and storage (403) -------------------------------------


def team_documents_usage(team: Team) -> tuple[int, int]:
    """(documents, bytes) the team holds."""
    from apps.projects.models import Document

    documents = Document.objects.filter(project__team=team)
    totals = documents.aggregate(count=Count("id"), size=Coalesce(Sum("file_size"), 0))
    return int(totals["count"]), int(totals["size"])


def document_admit(*, team: Team | None, size: int, lock: bool = False) -> None:
    """Refuse (QuotaExceeded, 403) a new document of `size` bytes that would take the
    team past its plan's documents or storage limit.

    With `lock` (inside a transaction, just before the row is inserted) the team's row is
    locked first, so parallel uploads of one team are counted one after another and the
    limit is never passed; without it, a cheap check before the file is stored.
    """
    plan = plan_of(team)
    if team is None or plan is None:
        return
    if plan.max_documents is None and plan.max_storage_bytes is None:
        return
    if lock:
        Team.objects.select_for_update(no_key=True).filter(pk=team.pk).first()
    count, stored = team_documents_usage(team)
    if plan.max_documents is not None and count + 1 > plan.max_documents:
        raise QuotaExceeded(
            f"Your plan allows {plan.max_documents} documents; the team holds {count}. "
            "Delete documents or change plans.",
            quota=DOCUMENTS,
            limit=plan.max_documents,
            used=count,
        )
    if plan.max_storage_bytes is not None and stored + size > plan.max_storage_bytes:
        raise QuotaExceeded(
            f"This file ({size} bytes) would take the team past its plan's storage of "
            f"{plan.max_storage_bytes} bytes ({stored} used). Delete documents or change plans.",
            quota=STORAGE_BYTES,
            limit=plan.max_storage_bytes,
            used=stored,
        )


# --- Counters in the cache ------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """A limit's state in its current window, as the `X-RateLimit-*` headers give it."""

    limit: int
    used: int
    resets_at: datetime.datetime

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)


def _count(key: str, *, timeout: int, seed: Callable[[], int] | None = None) -> int:
    """Add one to the counter `key` and return the new value. A missing counter starts
    from `seed()` (zero without one); `add` keeps a concurrent seeding from overwriting
    the counts already made, and `incr` is atomic."""
    for _ in range(2):
        if seed is None:
            cache.add(key, 0, timeout)
        elif cache.get(key) is None:
            cache.add(key, seed(), timeout)
        try:
            return int(cache.incr(key))
        except ValueError:  # expired between add and incr: seed again
            continue
    return int(cache.incr(key))


def _give_back(key: str) -> None:
    with suppress(ValueError):  # expired meanwhile: nothing to give back
        cache.decr(key)


def _month_start(now: datetime.datetime) -> datetime.datetime:
    return now.astimezone(datetime.UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _next_month(now: datetime.datetime) -> datetime.datetime:
    start = _month_start(now)
    return (start + datetime.timedelta(days=32)).replace(day=1)


def _day_start(now: datetime.datetime) -> datetime.datetime:
    return now.astimezone(datetime.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


# --- Tokens per month (429) -------------------------------------------------------------


def _tokens_key(team_id: Any, now: datetime.datetime) -> tuple[str, int]:
    """The counter of the team's month in the current reconciliation period, and the
    period's length. A new period is a new key, summed again from the ledger: a counter
    can never outlive its period, even one Redis re-created without an expiry (Django's
    `incr` checks the key exists, then increments: it may expire in between)."""
    period = QuotaConfig.from_settings().quota_reconcile_seconds
    epoch = int(now.timestamp()) // max(1, period)
    return f"quota:tokens:{team_id}:{now.astimezone(datetime.UTC):%Y-%m}:{epoch}", period


# The ledger grouped by team only (apps.usage.selectors' key shape: raw, roll-up).
_TEAM_KEY = (F("team_id"), F("team_id"))


def team_tokens_in_ledger(team_id: Any, since: datetime.datetime) -> int:
    """Tokens in and out of every call the ledger holds for the team since `since`: the
    daily roll-ups plus the raw rows not rolled up yet (raw rows alone would miss what
    the prune deleted), in one statement (apps.usage.selectors.usage_totals_by)."""
    from apps.usage.selectors import usage_totals_by

    start = timezone.localtime(since).date()
    rows = usage_totals_by(
        start=start, end=timezone.localdate(), keys={"key": _TEAM_KEY}, team_id=team_id
    )
    return sum(row["input_tokens"] + row["output_tokens"] for row in rows)


def team_tokens_used(team: Team, now: datetime.datetime | None = None) -> int:
    """The team's tokens this month. Read from the cache; the ledger's sum is taken when
    the counter is missing, so once per USAGE_QUOTA_RECONCILE_SECONDS per team (each
    period has its own counter), which catches up calls whose writes did not add to it."""
    now = now or timezone.now()
    key, period = _tokens_key(team.pk, now)
    used = cache.get(key)
    if used is None:
        used = team_tokens_in_ledger(team.pk, _month_start(now))
        if not cache.add(key, used, 2 * period):
            used = cache.get(key, used)
    return int(used)


def tokens_spent(*, team_id: Any, tokens: int) -> None:
    """Add a recorded call's tokens to the team's monthly counter, if it is in the cache
    (when it is not, the next check sums the ledger, which holds the call)."""
    if team_id is None or tokens <= 0:
        return
    with suppress(ValueError):
        cache.incr(_tokens_key(team_id, timezone.now())[0], tokens)


def tokens_admit(team: Team | None, plan: Plan | None) -> None:
    """Refuse (RateLimited, 429) work that asks a model when the team's monthly token
    budget is spent. Checked, not reserved: the answer's size is known only after it."""
    if team is None or plan is None or plan.tokens_per_month is None:
        return
    now = timezone.now()
    used = team_tokens_used(team, now)
    if used >= plan.tokens_per_month:
        raise RateLimited(
            f"The team has used its plan's {plan.tokens_per_month} tokens this month.",
            quota=TOKENS_PER_MONTH,
            limit=plan.tokens_per_month,
            used=used,
            resets_at=_next_month(now),
        )


# --- Chat messages per day (429) ------------------------------------------------------


def team_chat_messages_since(team: Team, since: datetime.datetime) -> int:
    """Messages the team's members sent since `since` (the counter's seed)."""
    from apps.chat.models import ChatMessage

    return ChatMessage.objects.filter(
        role=ChatMessage.Role.USER, created_at__gte=since, conversation__team=team
    ).count()


def _chat_key(team_id: Any, now: datetime.datetime) -> str:
    return f"quota:chat:{team_id}:{now.astimezone(datetime.UTC):%Y-%m-%d}"


def chat_messages_window(team: Team | None) -> Window | None:
    """Today's chat messages against the plan's daily limit (None: unlimited)."""
    plan = plan_of(team)
    if team is None or plan is None or plan.chat_messages_per_day is None:
        return None
    now = timezone.now()
    used = cache.get(_chat_key(team.pk, now))
    if used is None:
        used = team_chat_messages_since(team, _day_start(now))
    resets_at = _day_start(now) + datetime.timedelta(days=1)
    return Window(limit=plan.chat_messages_per_day, used=int(used), resets_at=resets_at)


@contextmanager
def chat_message_reserved(team: Team | None) -> Iterator[None]:
    """Around storing a user's chat message: refuse it (RateLimited, 429) when the team's
    monthly tokens are spent or its daily messages are used up; otherwise take one of
    today's messages, given back if the block raises (nothing was stored)."""
    plan = plan_of(team)
    if team is None or plan is None:
        yield
        return
    tokens_admit(team, plan)
    limit = plan.chat_messages_per_day
    if limit is None:
        yield
        return
    now = timezone.now()
    day = _day_start(now)
    resets_at = day + datetime.timedelta(days=1)
    key = _chat_key(team.pk, now)
    timeout = int((resets_at - now).total_seconds()) + 60
    used = _count(key, timeout=timeout, seed=lambda: team_chat_messages_since(team, day))
    if used > limit:
        _give_back(key)
        raise RateLimited(
            f"The team has sent its plan's {limit} chat messages today.",
            quota=CHAT_MESSAGES_PER_DAY,
            limit=limit,
            # Not `used - 1`: parallel refusals may each hold one more for a moment.
            used=min(used - 1, limit),
            resets_at=resets_at,
            rate=True,
        )
    try:
        yield
    except BaseException:
        _give_back(key)
        raise


# --- API-key requests per minute (429) ------------------------------------------------


def api_key_request_admit(request: Any, *, user: Any, key: Any) -> Window | None:
    """Count one API-key request against the team's per-minute rate, all its keys
    together, in a fixed window (the clock's minute); refuse (RateLimited, 429) past it.

    Returns the window for the `X-RateLimit-*` headers (None: unlimited).
    """
    team = team_for_request(request, user=user, key=key)
    plan = plan_of(team)
    if team is None or plan is None or plan.api_key_requests_per_minute is None:
        return None
    limit = plan.api_key_requests_per_minute
    now = timezone.now()
    minute = int(now.timestamp()) // 60
    resets_at = datetime.datetime.fromtimestamp((minute + 1) * 60, tz=datetime.UTC)
    # Refused requests count too (they keep the window full); the key outlives its minute
    # only by a margin for clocks that differ between processes.
    used = _count(f"quota:apikey:{team.pk}:{minute}", timeout=120)
    if used > limit:
        raise RateLimited(
            f"The team's API keys have made the plan's {limit} requests this minute.",
            quota=API_KEY_REQUESTS_PER_MINUTE,
            limit=limit,
            used=limit,
            resets_at=resets_at,
            rate=True,
        )
    return Window(limit=limit, used=used, resets_at=resets_at)
