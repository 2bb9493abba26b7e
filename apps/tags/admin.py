from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from apps.rbac.admin import ObjectPermissionAdmin
from apps.tags.models import Tag
from apps.tags.services import DUPLICATE, tag_create, tag_delete, tag_update
from apps.users.models import User


class TagAdminForm(forms.ModelForm):
    creator: Any = None  # set per request: the creator is not a form field

    class Meta:
        model = Tag
        fields = ["name", "color"]

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"]
        adding = self.instance._state.adding  # a UUID pk is set before the first save
        creator = self.creator if adding else self.instance.created_by
        clash = Tag.objects.filter(created_by=creator, name__iexact=name)
        if clash.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(DUPLICATE)
        return name


@admin.register(Tag)
class TagAdmin(ObjectPermissionAdmin):
    list_display = ["name", "color", "created_by", "created_at"]
    list_filter = ["created_at", "color"]
    search_fields = ["name", "created_by__email"]
    list_select_related = ["created_by"]
    readonly_fields = ["created_by", "team", "created_at"]
    form = TagAdminForm

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        form.creator = request.user  # type: ignore[attr-defined]
        return form

    def save_model(self, request: HttpRequest, obj: Tag, form: Any, change: bool) -> None:
        if change:
            tag_update(tag=obj, name=obj.name, color=obj.color)
        else:
            user = cast(User, request.user)
            self.adopt(obj, tag_create(user=user, name=obj.name, color=obj.color))

    def delete_through_service(self, obj: Any) -> None:
        tag_delete(tag=obj)
