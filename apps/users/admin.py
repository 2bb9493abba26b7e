"""The users admin: email-based forms, and every change that removes access (deactivate,
delete, new password) goes through the services, so the user's tokens are revoked.

Rights follow the API's no-escalation rule (`apps.rbac.rights`): the staff and superuser
flags and a user's own permissions are read-only to anyone but superusers; roles are
given or taken only when the staff user holds every right they carry; and staff manage
only accounts that are not superusers and hold no model permission they lack. The
services check all of it again, so a crafted POST changes nothing either."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm as DjangoAdminPasswordChangeForm
from django.contrib.auth.forms import AdminUserCreationForm as DjangoAdminUserCreationForm
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.rbac import services as rights_services
from apps.rbac.admin import ObjectPermissionAdmin, refusals_as_403
from apps.rbac.rights import covers_account, missing_role_rights
from apps.users import services
from apps.users.models import User

RIGHTS_FIELDS = ("is_staff", "is_superuser", "user_permissions")


class UserCreationForm(DjangoAdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class UserChangeForm(DjangoUserChangeForm):
    actor: User | None = None  # the staff user editing, set per request by the admin

    class Meta:
        model = User
        fields = "__all__"

    def clean_groups(self) -> Any:
        roles = self.cleaned_data["groups"]
        if self.actor is None or self.instance.pk is None:
            return roles
        held = set(self.instance.groups.all())
        refused = [role.name for role in set(roles) ^ held if missing_role_rights(self.actor, role)]
        if refused:
            raise forms.ValidationError(
                "You may not give or take these roles: they carry rights you do not hold: "
                + ", ".join(sorted(refused))
                + "."
            )
        return roles


class AdminPasswordChangeForm(DjangoAdminPasswordChangeForm):
    def save(self, commit: bool = True) -> Any:
        if not commit:
            return super().save(commit=False)
        usable = self.cleaned_data.get("set_usable_password", True)
        password = self.cleaned_data["password1"] if usable else None
        # The form has already run the password validators.
        return services.user_set_password(user=self.user, password=password, validate=False)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("full_name",)}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "full_name", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("email", "full_name", "is_active", "is_staff", "is_superuser", "date_joined")
    list_filter = ("is_active", "is_staff", "is_superuser", "groups")
    search_fields = ("email", "full_name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")
    filter_horizontal = ("groups", "user_permissions")
    actions = ["activate_users", "deactivate_users"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return fields
        return fields + RIGHTS_FIELDS

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user  # type: ignore[attr-defined]
        return form

    def _covers(self, request: HttpRequest, obj: Any) -> bool:
        return obj is None or covers_account(request.user, obj)  # type: ignore[arg-type]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self._covers(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_delete_permission(request, obj) and self._covers(request, obj)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        if not change:
            # The form has run the password validators; the service adds the default role.
            data = form.cleaned_data
            created = services.user_create(
                email=obj.email,
                password=data["password1"] if data.get("set_usable_password", True) else None,
                full_name=obj.full_name,
                validate=False,
                actor=request.user,  # type: ignore[arg-type]
            )
            ObjectPermissionAdmin.adopt(obj, created)
            return
        stored = User.objects.get(pk=obj.pk)
        flags = {name: getattr(obj, name) for name in ("is_superuser", "is_staff")}
        # The flags are rights: the service writes them (superusers only), not this save.
        obj.is_superuser, obj.is_staff = stored.is_superuser, stored.is_staff
        with refusals_as_403():
            rights_services.user_set_flags(actor=request.user, user=obj, **flags)  # type: ignore[arg-type]
        services.user_save_admin_changes(user=obj, changed_fields=list(form.changed_data))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Roles and own permissions are rights: set through the services, never by the
        # form's save_m2m (a non-superuser's form has no permissions field at all).
        user, data = form.instance, form.cleaned_data
        with refusals_as_403():
            if "groups" in form.fields:
                rights_services.user_set_roles(actor=request.user, user=user, roles=data["groups"])  # type: ignore[arg-type]
            if "user_permissions" in form.fields:
                rights_services.user_set_permissions(
                    actor=request.user,  # type: ignore[arg-type]
                    user=user,
                    permissions=data["user_permissions"],
                )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        services.user_delete(user=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = list(queryset)
        if not all(self._covers(request, user) for user in users):
            raise PermissionDenied("Some of these accounts hold rights you do not.")
        for user in users:
            services.user_delete(user=user)

    @admin.action(description="Activate selected users", permissions=["change"])
    def activate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_active(request, queryset, is_active=True)

    @admin.action(
        description="Deactivate selected users (revokes their tokens)", permissions=["change"]
    )
    def deactivate_users(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_active(request, queryset, is_active=False)

    def _set_active(
        self, request: HttpRequest, queryset: QuerySet[User], *, is_active: bool
    ) -> None:
        changed, skipped = 0, 0
        for user in queryset.exclude(is_active=is_active):
            # Reactivating an account brings its rights back: only for accounts you cover.
            if not self._covers(request, user):
                skipped += 1
                continue
            services.user_set_active(user=user, is_active=is_active)
            changed += 1
        state = "activated" if is_active else "deactivated"
        self.message_user(request, f"{changed} user(s) {state}.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} user(s) skipped: they hold rights you do not.",
                messages.WARNING,
            )
