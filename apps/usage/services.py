"""Writing the ledger: `model_call_record`, the metering sink, appends the rows;
`usage_roll_up` folds finished days into `UsageDay` and `model_calls_prune` deletes old
raw rows once rolled up (both run by beat, apps/operations/schedule.py)."""

from __future__ import annotations

import datetime
import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.plans.quotas import tokens_spent
from apps.teams.models import Membership
from apps.usage.models import ModelCall, UsageDay
from launch.ai.metering import CallRecord

logger = logging.getLogger(__name__)

THOUSAND = Decimal(1000)


def _price(model: str, kind: str) -> Decimal:
    """USAGE_PRICES[model][kind], the price per 1,000 tokens; zero when not listed."""
    prices: dict[str, Any] = settings.USAGE_PRICES
    entry = prices.get(model) or {}
    try:
        return Decimal(str(entry.get(kind, 0) or 0))
    except (InvalidOperation, AttributeError):
        logger.warning("USAGE_PRICES[%r][%r] is not a number; priced at zero", model, kind)
        return Decimal(0)


def call_cost(*, model: str, input_tokens: int, output_tokens: int) -> Decimal:
    cost = (
        _price(model, "input") * input_tokens + _price(model, "output") * output_tokens
    ) / THOUSAND
    return cost.quantize(Decimal("0.00000001"))


def _id(value: Any) -> Any:
    return getattr(value, "pk", value)


def model_call_row(record: CallRecord) -> ModelCall:
    """The ledger row for a finished call, unsaved; its team is left for `model_calls_write`
    to find when the attribution names none."""
    who = record.attribution
    user_id = _id(who.get("user"))
    if user_id is not None and not getattr(who.get("user"), "is_authenticated", True):
        user_id = None
    return ModelCall(
        created_at=timezone.now(),
        team_id=who.get("team_id"),
        user_id=user_id,
        api_key_id=_id(who.get("api_key")),
        project_id=who.get("project_id"),
        document_id=who.get("document_id"),
        conversation_id=who.get("conversation_id"),
        purpose=record.purpose,
        provider=record.provider[:64],
        model=record.model[:255],
        input_tokens=record.input_tokens,
        output_tokens=record.output_tokens,
        tokens_estimated=record.tokens_estimated,
        latency_ms=record.latency_ms,
        status=record.status,
        cost=call_cost(
            model=record.model, input_tokens=record.input_tokens, output_tokens=record.output_tokens
        ),
        idempotency_key=record.idempotency_key,
    )


def model_calls_write(rows: list[ModelCall]) -> None:
    """Insert ledger rows, skipping any whose idempotency key was already recorded.

    Side effects: one SELECT for the default teams of the rows' users that name no team
    (teams phase 1: a user's calls belong to their default team) and one INSERT (ON
    CONFLICT DO NOTHING), in a savepoint so a refused write leaves a surrounding
    transaction usable."""
    users = {row.user_id for row in rows if row.team_id is None and row.user_id is not None}
    if users:
        teams = dict(
            Membership.objects.filter(user_id__in=users, is_default=True).values_list(
                "user_id", "team_id"
            )
        )
        for row in rows:
            if row.team_id is None and row.user_id is not None:
                row.team_id = teams.get(row.user_id)
    with transaction.atomic():
        ModelCall.objects.bulk_create(rows, ignore_conflicts=True)
    # The teams' monthly token counters (apps.plans.quotas). A keyed row may have been a
    # replay that was not inserted: it is left to the counter's next reconciliation.
    for row in rows:
        if row.idempotency_key is None:
            try:
                tokens_spent(team_id=row.team_id, tokens=row.total_tokens)
            except Exception:
                logger.exception("the monthly token counter was not updated")


def model_call_record(record: CallRecord) -> None:
    """Append one ledger row for a finished model call, now (the inline sink; the web
    server's default is the deferred writer, apps/usage/writer.py, which batches these
    rows off the request path). The caller (launch.ai.metering) logs a failure and
    carries on."""
    model_calls_write([model_call_row(record)])


# One statement: the UPDATE takes the rows not rolled up yet (flagging them) and the
# INSERT adds their sums to `UsageDay`, so a row is counted by exactly one run, and a
# reader's statement sees it either raw or rolled up, never both. A concurrent run
# blocks on the rows this one flags, then skips them (no longer unflagged).
_ROLL_UP = """
WITH taken AS (
    UPDATE {calls} SET rolled_up = true
    WHERE NOT rolled_up AND created_at < %(before)s
    RETURNING created_at, team_id, user_id, api_key_id, project_id, provider, model,
        purpose, status, tokens_estimated, input_tokens, output_tokens, cost
), added AS (
    INSERT INTO {days} (day, team_id, user_id, api_key_id, project_id, provider, model,
        purpose, calls, errors, estimated_calls, input_tokens, output_tokens, cost,
        rolled_up_at)
    SELECT (created_at AT TIME ZONE %(tz)s)::date, team_id, user_id, api_key_id,
        project_id, provider, model, purpose, count(*),
        count(*) FILTER (WHERE status <> 'ok'), count(*) FILTER (WHERE tokens_estimated),
        sum(input_tokens), sum(output_tokens), sum(cost), %(now)s
    FROM taken GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    RETURNING calls
)
SELECT coalesce(sum(calls), 0) FROM added
"""


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@transaction.atomic
def usage_roll_up(*, before: datetime.date | None = None) -> int:
    """Add every ledger row of the days before `before` (default: today, in TIME_ZONE)
    not rolled up yet to `UsageDay`; returns how many rows were added.

    Idempotent: a second run (or two at once) adds nothing twice, and a row committed
    late for a day already rolled up is added by the next run. Side effects: inserts
    UsageDay rows, flags the ModelCall rows it added (`rolled_up`)."""
    sql = _ROLL_UP.format(calls=ModelCall._meta.db_table, days=UsageDay._meta.db_table)
    start = _start_of(before or timezone.localdate())
    with connection.cursor() as cursor:
        cursor.execute(sql, {"before": start, "tz": settings.TIME_ZONE, "now": timezone.now()})
        (added,) = cursor.fetchone()
    return int(added)


@transaction.atomic
def model_calls_prune(*, days: int | None = None, dry_run: bool = False) -> int:
    """Delete raw ledger rows older than `days` (default USAGE_RAW_RETENTION_DAYS) that
    are rolled up; a row not rolled up yet stays until it is, so no total changes.
    Side effects: deletes ModelCall rows (their sums stay in UsageDay)."""
    cutoff = timezone.now() - datetime.timedelta(days=days or settings.USAGE_RAW_RETENTION_DAYS)
    old = ModelCall.objects.filter(rolled_up=True, created_at__lt=cutoff)
    count = old.count()
    if count and not dry_run:
        old.delete()
    return count
