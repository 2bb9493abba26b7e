"""Writing the ledger. The only writer is `model_call_record`, the metering sink."""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.plans.quotas import tokens_spent
from apps.teams.models import Membership
from apps.usage.models import ModelCall
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


def model_call_record(record: CallRecord) -> None:
    """Append one ledger row for a finished model call, unless its idempotency key was
    already recorded.

    Side effects: one INSERT (ON CONFLICT DO NOTHING), in a savepoint so a refused write
    leaves a surrounding transaction usable; the caller (launch.ai.metering) logs a
    failure and carries on. The team is the user's default team (teams phase 1).
    """
    who = record.attribution
    user_id = _id(who.get("user"))
    if user_id is not None and not getattr(who.get("user"), "is_authenticated", True):
        user_id = None
    api_key_id = _id(who.get("api_key"))
    team_id = who.get("team_id")
    if team_id is None and user_id is not None:
        team_id = (
            Membership.objects.filter(user_id=user_id, is_default=True)
            .values_list("team_id", flat=True)
            .first()
        )
    call = ModelCall(
        created_at=timezone.now(),
        team_id=team_id,
        user_id=user_id,
        api_key_id=api_key_id,
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
    with transaction.atomic():
        ModelCall.objects.bulk_create([call], ignore_conflicts=True)
    if record.idempotency_key is None:
        # The team's monthly token counter (apps.plans.quotas). A keyed row may have been
        # a replay that was not inserted: it is left to the counter's next reconciliation.
        try:
            tokens_spent(team_id=team_id, tokens=call.total_tokens)
        except Exception:
            logger.exception("the monthly token counter was not updated")
