"""Admin building blocks shared by every app."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """Rows staff may look at but never add, change or delete in the admin: what
    services, tasks or libraries write (task results, vector records, run logs). With
    the view permission the change page shows every field read-only; admin actions that
    act through services declare permissions of their own."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
