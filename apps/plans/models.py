"""Plans: the limits a team buys. A team holds one (`Team.plan`); a team without one,
personal teams included, is on the default plan (`USAGE_DEFAULT_PLAN`).

Every limit is a number or NULL for "unlimited". How each is counted and enforced is in
apps/plans/quotas.py and docs/usage.md ("Plans and quotas").
"""

from __future__ import annotations

from django.db import models

# The limits, by the name the API's error envelope gives them (`quota`).
DOCUMENTS = "documents"
STORAGE_BYTES = "storage_bytes"
TOKENS_PER_MONTH = "tokens_per_month"
CHAT_MESSAGES_PER_DAY = "chat_messages_per_day"
API_KEY_REQUESTS_PER_MINUTE = "api_key_requests_per_minute"


class Plan(models.Model):
    key = models.SlugField(
        max_length=50, unique=True, help_text="Stable name (USAGE_DEFAULT_PLAN names one)."
    )
    name = models.CharField(max_length=100)
    max_documents = models.PositiveIntegerField(
        null=True, blank=True, help_text="Documents a team may hold. Empty: unlimited."
    )
    max_storage_bytes = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Bytes of files a team may hold. Empty: unlimited."
    )
    tokens_per_month = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="Model tokens (in + out, every call in the ledger) per calendar month, UTC. "
        "Empty: unlimited.",
    )
    chat_messages_per_day = models.PositiveIntegerField(
        null=True, blank=True, help_text="Chat messages sent per UTC day. Empty: unlimited."
    )
    api_key_requests_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Requests made with the team's API keys per minute, all keys together. "
        "Empty: unlimited.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name

    def limit(self, quota: str) -> int | None:
        """The limit named `quota` (one of the names above); None is unlimited."""
        column = {
            DOCUMENTS: "max_documents",
            STORAGE_BYTES: "max_storage_bytes",
            TOKENS_PER_MONTH: "tokens_per_month",
            CHAT_MESSAGES_PER_DAY: "chat_messages_per_day",
            API_KEY_REQUESTS_PER_MINUTE: "api_key_requests_per_minute",
        }[quota]
        value: int | None = getattr(self, column)
        return value
