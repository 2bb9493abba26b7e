from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.http import HttpRequest

from apps.items.models import Item
from apps.items.services import item_create, item_delete, item_update
from apps.rbac.admin import ObjectPermissionAdmin
from apps.tags.selectors import tag_list
from apps.users.models import User


@admin.register(Item)
class ItemAdmin(ObjectPermissionAdmin):
    list_display = ["title", "owner", "created_at"]
    list_filter = ["created_at", ("tags", admin.RelatedOnlyFieldListFilter)]  # tags in use
    search_fields = ["title", "description", "owner__email"]
    list_select_related = ["owner"]
    filter_horizontal = ["tags"]
    readonly_fields = ["owner", "team", "created_at", "updated_at"]

    def formfield_for_manytomany(self, db_field: Any, request: Any = None, **kwargs: Any) -> Any:
        if db_field.name == "tags":
            kwargs["queryset"] = tag_list(user=request.user)  # the API's rule: only tags you see
        return super().formfield_for_manytomany(db_field, request=request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Item, form: Any, change: bool) -> None:
        user = cast(User, request.user)
        fields: dict[str, Any] = {
            "title": obj.title,
            "description": obj.description,
            "tag_ids": [tag.pk for tag in form.cleaned_data.get("tags", [])],
        }
        if change:
            item_update(item=obj, user=user, **fields)
        else:
            self.adopt(obj, item_create(user=user, **fields))

    def delete_through_service(self, obj: Any) -> None:
        item_delete(item=obj)
