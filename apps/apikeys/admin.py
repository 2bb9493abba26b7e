"""Keys in the admin: read-only (the secret never, not even its hash), with a revoke
action that goes through the service. Keys are created by their users through the API,
where the key is shown once; the admin never holds one to show."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from apps.apikeys.models import ApiKey
from apps.apikeys.services import apikey_revoke
from apps.users.models import User

# Everything a key shows, all read-only; never its secret or the hash of it.
FIELDS = (
    "name",
    "prefix",
    "user",
    "team",
    "scopes",
    "status",
    "expires_at",
    "revoked_at",
    "created_at",
    "last_used_at",
    "last_used_ip",
    "seen_addresses",
)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "prefix",
        "user",
        "team",
        "status",
        "created_at",
        "last_used_at",
        "expires_at",
    ]
    list_filter = ["created_at", "revoked_at", "expires_at"]
    search_fields = ["name", "prefix", "user__email", "team__name", "team__slug"]
    list_select_related = ["user", "team"]
    fields = FIELDS
    readonly_fields = FIELDS
    actions = ["revoke"]

    @admin.display(description="status")
    def status(self, obj: ApiKey) -> str:
        return obj.status_at(timezone.now())

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Revoked keys stay, with their activity, for the record; deleting the user
        # deletes its keys.
        return False

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        actor = cast(User, request.user)
        revoked = 0
        for key in queryset.filter(revoked_at__isnull=True):
            apikey_revoke(key=key, actor=actor)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} API key(s).", messages.SUCCESS)
