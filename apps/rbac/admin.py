"""Roles in the admin, and `ObjectPermissionAdmin`, the base admin of every protected
model: staff see and edit only the rows their object grants (or their roles') allow.

Every change of rights made here goes through `apps.rbac.services` with the staff user
as the actor, so the admin follows the API's no-escalation rule: the object-permissions
pages grant at most what the staff user holds and revoke only what it may; a role's page
is read-only to staff who lack any right the role carries, and offers only the
permissions they hold."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from guardian.admin import (
    AdminGroupObjectPermissionsForm,
    AdminUserObjectPermissionsForm,
    GuardedModelAdmin,
)

from apps.rbac import services
from apps.rbac.models import RoleProfile
from apps.rbac.rights import actor_model_permissions, missing_role_rights
from apps.rbac.selectors import codename_of, permission_catalog, role_list
from apps.users.models import User
from launch.errors import PermissionDenied as Refusal
from launch.permissions import OBJECT_ACTIONS, object_actions_of, objects_visible_to


def refusal_message(error: Exception) -> str:
    """The text of a service's refusal (403 or 422), for a form error or a message."""
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


@contextmanager
def refusals_as_403() -> Iterator[None]:
    """A service's refusal is a domain error, which the admin does not know: make it Django's.
    The admin's own checks keep honest pages from getting here; crafted posts do."""
    try:
        yield
    except Refusal as error:
        raise PermissionDenied(refusal_message(error)) from error


class ShareFormMixin(forms.Form):
    """Guardian's object-permissions form, limited to Launch's object actions, decided
    and written by `share_set` with the staff user as the actor."""

    actor: User
    obj: Model

    def _principal(self) -> dict[str, Any]:
        raise NotImplementedError

    def get_obj_perms_field_choices(self) -> list[tuple[str, str]]:
        model_name = self.obj._meta.model_name
        offered = {codename for codename, _ in super().get_obj_perms_field_choices()}  # type: ignore[misc]
        return [
            (f"{action}_{model_name}", action)
            for action in OBJECT_ACTIONS
            if f"{action}_{model_name}" in offered
        ]

    def _actions(self) -> list[str]:
        suffix = f"_{self.obj._meta.model_name}"
        return [code.removesuffix(suffix) for code in self.cleaned_data.get("permissions", [])]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        try:
            services.share_check(
                actor=self.actor, obj=self.obj, actions=self._actions(), **self._principal()
            )
        except (Refusal, ValidationError) as error:
            raise ValidationError(refusal_message(error)) from None
        return cleaned

    def save_obj_perms(self) -> None:
        services.share_set(
            actor=self.actor, obj=self.obj, actions=self._actions(), **self._principal()
        )


class UserShareForm(ShareFormMixin, AdminUserObjectPermissionsForm):
    def _principal(self) -> dict[str, Any]:
        return {"user": self.user}


class RoleShareForm(ShareFormMixin, AdminGroupObjectPermissionsForm):
    def _principal(self) -> dict[str, Any]:
        return {"role": self.group}


class ObjectPermissionAdmin(GuardedModelAdmin):
    """Guardian's admin (with its object-permissions page), narrowed by object grants.

    The model permission of a staff user's roles opens a page; the object grant decides
    the row, as in the API. The object-permissions page needs object `share`.
    """

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return objects_visible_to(request.user, super().get_queryset(request))

    @staticmethod
    def adopt(obj: Model, saved: Model) -> None:
        """Make the admin's unsaved `obj` the row a create service saved, so the rest of
        the add view (log, redirect) sees its pk. Services create, grants included; the
        admin never writes a row or a grant itself."""
        obj.__dict__.update(saved.__dict__)

    def delete_through_service(self, obj: Model) -> None:
        """Delete `obj` with its app's delete service, as the API does (files, vectors,
        grants and activity go with it); the admin never deletes a row itself."""
        raise NotImplementedError(f"{type(self).__name__} must delete through its service.")

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        self.delete_through_service(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_through_service(obj)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The service saved the many-to-many fields with the row; only inlines are left.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

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

    def get_obj_perms_manage_user_form(self, request: HttpRequest) -> type[forms.Form]:
        return type("UserShareForm", (UserShareForm,), {"actor": request.user})

    def get_obj_perms_manage_group_form(self, request: HttpRequest) -> type[forms.Form]:
        return type("RoleShareForm", (RoleShareForm,), {"actor": request.user})

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


class RoleAdminForm(forms.ModelForm):
    """The role's name follows the services' rules here too, so the page shows them as
    form errors: the default role keeps its name, and only superusers use the names of
    the default roles."""

    actor: Any = None  # the staff user, set per request

    class Meta:
        model = Group
        fields = ["name", "permissions"]

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        stored = Group.objects.filter(pk=self.instance.pk).first() if self.instance.pk else None
        if stored is None or stored.name != name:
            if stored is not None and services.is_default(stored):
                raise forms.ValidationError(services.DEFAULT_ROLE_FIXED)
            reserved = services.reserved_role_names()
            touched = {name, stored.name if stored else name}
            if reserved & touched and not (self.actor and self.actor.is_superuser):
                raise forms.ValidationError("Only superusers use the default roles' names.")
        return name


class RoleProfileInline(admin.StackedInline):
    model = RoleProfile
    can_delete = False
    verbose_name_plural = "description"


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(GroupAdmin):
    """Roles are Django groups; their permissions are limited to Launch's catalog."""

    form = RoleAdminForm
    inlines = [RoleProfileInline]
    list_display = ["name", "description", "user_count", "is_default"]
    list_filter = ["permissions__content_type__app_label"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return role_list()

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user  # type: ignore[attr-defined]
        return form

    def formfield_for_manytomany(self, db_field: Any, request: Any = None, **kwargs: Any) -> Any:
        if db_field.name == "permissions":
            # Only what the staff user could hand out; the service checks again.
            catalog = permission_catalog()
            if request is not None and not request.user.is_superuser:
                held = actor_model_permissions(request.user)
                catalog = catalog.filter(pk__in=[p.pk for p in catalog if codename_of(p) in held])
            kwargs["queryset"] = catalog
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

    def _holds(self, request: HttpRequest, role: Group) -> bool:
        cache = request.__dict__.setdefault("_roles_held", {})
        if role.pk not in cache:
            cache[role.pk] = not missing_role_rights(request.user, role)  # type: ignore[arg-type]
        return bool(cache[role.pk])

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or self._holds(request, obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and services.is_default(obj):
            return False
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or self._holds(request, obj))

    def save_model(self, request: HttpRequest, obj: Group, form: Any, change: bool) -> None:
        permissions = [codename_of(p) for p in form.cleaned_data.get("permissions", [])]
        actor = request.user
        with refusals_as_403():
            if change:
                stored = Group.objects.get(pk=obj.pk)
                services.role_update(
                    actor=actor,  # type: ignore[arg-type]
                    role=stored,
                    name=obj.name,
                    permissions=permissions,
                )
            else:
                role = services.role_create(
                    actor=actor,  # type: ignore[arg-type]
                    name=obj.name,
                    permissions=permissions,
                )
                obj.pk, obj._state.adding = role.pk, False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The permissions were set by the service; only the description inline is left.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request: HttpRequest, obj: Group) -> None:
        with refusals_as_403():
            services.role_delete(actor=request.user, role=obj)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Group]) -> None:
        roles = list(queryset)
        # All or none: the bulk action is not one transaction.
        if not all(self.has_delete_permission(request, role) for role in roles):
            raise PermissionDenied
        with refusals_as_403():
            for role in roles:
                services.role_delete(actor=request.user, role=role)  # type: ignore[arg-type]
