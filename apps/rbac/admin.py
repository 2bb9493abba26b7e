"""Roles in the admin, and `ObjectPermissionAdmin`, the base admin of every protected
model: staff see and edit only the rows their object grants (or their roles') allow."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from guardian.admin import GuardedModelAdmin

from apps.rbac import services
from apps.rbac.models import RoleProfile
from apps.rbac.selectors import permission_catalog, role_list
from launch.permissions import object_actions_of, objects_visible_to


class ObjectPermissionAdmin(GuardedModelAdmin):
    """Guardian's admin (with its object-permissions page), narrowed by object grants.

    The model permission of a staff user's roles opens a page; the object grant decides
    the row, as in the API. The object-permissions page needs object `share`.
    """

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return objects_visible_to(request.user, super().get_queryset(request))

    def _holds(self, request: HttpRequest, obj: Model | None, action: str) -> bool:
        if obj is None:
            return True
        cache = request.__dict__.setdefault("_object_actions", {})
        key = (type(obj), obj.pk)
        if key not in cache:
            cache[key] = object_actions_of(request.user, obj)
        return action in cache[key]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and self._holds(request, obj, "view")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._holds(request, obj, "change")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._holds(request, obj, "delete")

    def _require_share(self, request: HttpRequest, object_pk: Any) -> None:
        obj = get_object_or_404(self.get_queryset(request), pk=object_pk)
        if not self._holds(request, obj, "share"):
            raise PermissionDenied

    def obj_perms_manage_view(self, request: HttpRequest, object_pk: Any) -> HttpResponse:
        self._require_share(request, object_pk)
        return super().obj_perms_manage_view(request, object_pk)

    def obj_perms_manage_user_view(
        self, request: HttpRequest, object_pk: Any, user_id: Any
    ) -> HttpResponse:
        self._require_share(request, object_pk)
        return super().obj_perms_manage_user_view(request, object_pk, user_id)

    def obj_perms_manage_group_view(
        self, request: HttpRequest, object_pk: Any, group_id: Any
    ) -> HttpResponse:
        self._require_share(request, object_pk)
        return super().obj_perms_manage_group_view(request, object_pk, group_id)


class RoleProfileInline(admin.StackedInline):
    model = RoleProfile
    can_delete = False
    verbose_name_plural = "description"


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(GroupAdmin):
    """Roles are Django groups; their permissions are limited to Launch's catalog."""

    inlines = [RoleProfileInline]
    list_display = ["name", "description", "user_count", "is_default"]
    list_filter = ["permissions__content_type__app_label"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return role_list()

    def formfield_for_manytomany(self, db_field: Any, request: Any = None, **kwargs: Any) -> Any:
        if db_field.name == "permissions":
            kwargs["queryset"] = permission_catalog()
        return super().formfield_for_manytomany(db_field, request=request, **kwargs)

    @admin.display(description="description")
    def description(self, role: Group) -> str:
        profile = getattr(role, "profile", None)
        return profile.description if profile else ""

    @admin.display(description="users", ordering="user_count")
    def user_count(self, role: Group) -> int:
        return int(getattr(role, "user_count", 0))

    @admin.display(description="default", boolean=True)
    def is_default(self, role: Group) -> bool:
        return services.is_default(role)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and services.is_default(obj):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: Group) -> None:
        services.role_delete(role=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Group]) -> None:
        for role in queryset:
            services.role_delete(role=role)
