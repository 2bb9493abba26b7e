from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.items.models import Item
from apps.rbac.admin import ObjectPermissionAdmin
from apps.tags.selectors import tag_list
from launch.permissions import grant_owner_permissions


@admin.register(Item)
class ItemAdmin(ObjectPermissionAdmin):
    list_display = ["title", "owner", "created_at"]
    list_filter = ["created_at", "tags"]
    search_fields = ["title", "description", "owner__email"]
    list_select_related = ["owner"]
    filter_horizontal = ["tags"]
    readonly_fields = ["owner", "created_at", "updated_at"]

    def formfield_for_manytomany(self, db_field: Any, request: Any = None, **kwargs: Any) -> Any:
        if db_field.name == "tags":
            kwargs["queryset"] = tag_list(user=request.user)  # the API's rule: only tags you see
        return super().formfield_for_manytomany(db_field, request=request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Item, form: Any, change: bool) -> None:
        if not change:
            obj.owner = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
        if not change:
            # The ModelForm saves the row (and then its tags); the grant is the services'.
            grant_owner_permissions(obj, obj.owner)
