"""The usage ledger: one row per model call, appended by the request that made it, and
`UsageDay`, its daily roll-up.

No counter row is updated per call (a hot row would serialize requests); totals are
sums over this table, indexed by team and by user with time. Projects, documents and
conversations are kept as plain ids, not foreign keys: what was spent stays on the
books after they are deleted.

The daily roll-up task (apps/usage/rollup.py) folds rows into `UsageDay` and flags them
`rolled_up`; readers add the roll-ups to the rows not rolled up yet, so totals are exact
at any moment, and `prune` may then delete old raw rows while the roll-ups stay.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q


class ModelCall(models.Model):
    class Purpose(models.TextChoices):
        INGEST = "ingest"
        QUERY_EMBEDDING = "query_embedding", "query embedding"
        ANSWER = "answer"
        STREAM_ANSWER = "stream_answer", "streamed answer"
        TITLE = "title"

    class Status(models.TextChoices):
        OK = "ok"
        ERROR = "error"
        CANCELLED = "cancelled"

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(db_index=True)
    team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    api_key = models.ForeignKey(
        "apikeys.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    project_id = models.UUIDField(null=True, blank=True)
    document_id = models.UUIDField(null=True, blank=True)
    conversation_id = models.UUIDField(null=True, blank=True)
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    provider = models.CharField(max_length=64)
    model = models.CharField(max_length=255, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    # The provider reported no count: the figures are a tokenizer/length estimate.
    tokens_estimated = models.BooleanField(default=False)
    latency_ms = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status.choices)
    cost = models.DecimalField(max_digits=16, decimal_places=8, default=Decimal(0))
    # Names one logical call (a task attempt's batch): a replayed write of it is not
    # counted again. NULL, not "", for "no key": unique only where set.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    # Set once, by the roll-up task, in the statement that adds the row to `UsageDay`:
    # readers then count the row there and not here.
    rolled_up = models.BooleanField(default=False)

    class Meta:
        verbose_name = "model call"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                "idempotency_key",
                condition=Q(idempotency_key__isnull=False),
                name="usage_modelcall_idempotency_key_unique",
            )
        ]
        indexes = [
            models.Index(fields=["team", "created_at"], name="usage_call_team_time"),
            models.Index(fields=["user", "created_at"], name="usage_call_user_time"),
            # What the roll-up and the readers scan for: the rows not rolled up yet.
            models.Index(
                fields=["created_at"],
                condition=Q(rolled_up=False),
                name="usage_call_pending_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.provider}/{self.model} ({self.status})"

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class UsageDay(models.Model):
    """Model calls of one day (in TIME_ZONE), summed per team, user, key, project,
    provider, model and purpose. Kept for good: what raw rows `prune` deletes after
    USAGE_RAW_RETENTION_DAYS stays here.

    Each roll-up run appends the groups of the rows it took, so a day may hold several
    rows per group (late rows picked up by a later run); readers sum them. No unique key:
    deleting a team or user sets its references to NULL, which would merge groups."""

    id = models.BigAutoField(primary_key=True)
    day = models.DateField()
    team = models.ForeignKey(
        "teams.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    api_key = models.ForeignKey(
        "apikeys.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    project_id = models.UUIDField(null=True, blank=True)
    provider = models.CharField(max_length=64)
    model = models.CharField(max_length=255, blank=True)
    purpose = models.CharField(max_length=32, choices=ModelCall.Purpose.choices)
    calls = models.PositiveBigIntegerField(default=0)
    errors = models.PositiveBigIntegerField(default=0)
    estimated_calls = models.PositiveBigIntegerField(default=0)
    input_tokens = models.PositiveBigIntegerField(default=0)
    output_tokens = models.PositiveBigIntegerField(default=0)
    cost = models.DecimalField(max_digits=20, decimal_places=8, default=Decimal(0))
    rolled_up_at = models.DateTimeField()

    class Meta:
        verbose_name = "usage day"
        ordering = ["-day", "-id"]
        indexes = [
            models.Index(fields=["day"], name="usage_day_day"),
            models.Index(fields=["team", "day"], name="usage_day_team_day"),
            models.Index(fields=["user", "day"], name="usage_day_user_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.provider}/{self.model} {self.purpose}: {self.calls} calls"

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens
