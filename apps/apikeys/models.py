"""API keys: credentials for programs, limited to scopes their creator holds.

A personal key (`team` empty) is its user's; a team key (`team` set) is made by a team
member holding `teams.manage_api_keys` and works only while its creator is still in the
team with that right (apps.apikeys.authentication). Either acts as its creator, within
its scopes; a team key also names the team it works in (`request.auth.team_id`).

A key reads `lk_<8 characters>_<40 characters>`. The first part (`prefix`) is stored
in clear, unique and indexed, so a key is found in one lookup and people can tell keys
apart; the whole key is stored only as a keyed hash (`apps.apikeys.secrets`).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from launch.models import UUIDModel

# What `status_at` answers (the API's `status`; an OpenAPI enum named in settings).
STATUSES = ("active", "expired", "revoked")


class ApiKey(UUIDModel):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    # Set for a team key: the team it was made for and works in.
    team = models.ForeignKey(
        "teams.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_keys",
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    # HMAC-SHA256 of the whole key, hex; never shown, never logged.
    secret_hash = models.CharField(max_length=64, editable=False)
    # Model permissions as `app_label.codename`. What a request may do is these AND what
    # the creator holds at that moment (launch.api.permissions), never these alone.
    scopes = ArrayField(models.CharField(max_length=255), default=list, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)
    # The latest distinct client addresses (at most API_KEY_SEEN_ADDRESSES): a use from
    # an address not in here is written to the activity log.
    seen_addresses = ArrayField(
        models.GenericIPAddressField(), default=list, blank=True, editable=False
    )

    # Tells launch.api.permissions that requests made with this credential are limited
    # to `scopes` (duck-typed there, so launch/ does not import an app).
    limits_scopes: ClassVar[bool] = True

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    def status_at(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"
