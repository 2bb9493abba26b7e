"""The baseline: the least a Django view can do to answer the same rows.

No DRF, no authentication, no serializer: `.values()` and orjson. Launch's endpoints are
measured against these in the same run, on the same server.

The items list baseline is the other kind: Launch's own list view with only the
visibility filter swapped for guardian's generic `get_objects_for_user`, so a comparison
isolates the permission filter (bench/permissions_list.py).
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import guardian.shortcuts
import orjson
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from guardian.models import GroupObjectPermission, UserObjectPermission
from rest_framework.filters import BaseFilterBackend
from rest_framework.request import Request

from apps.items.viewsets import ItemViewSet
from apps.users.models import User
from launch.api.filters import ObjectPermissionFilter

FIELDS = ("id", "email", "is_active", "is_superuser", "full_name")


def users_list_bare(request: HttpRequest) -> HttpResponse:
    limit = int(request.GET.get("limit", 50))
    rows = list(User.objects.order_by("email").values(*FIELDS)[:limit])
    body = {"data": rows, "count": User.objects.count()}
    return HttpResponse(orjson.dumps(body), content_type="application/json")


def users_me_bare(request: HttpRequest) -> HttpResponse:
    row = User.objects.filter(is_superuser=True).values(*FIELDS).order_by("email").first()
    return HttpResponse(orjson.dumps(row), content_type="application/json")


class GenericGuardianFilter(BaseFilterBackend):
    """guardian's `get_objects_for_user` over its generic tables (`object_pk` as text).

    guardian picks a model's direct foreign-key tables whenever it has them, so the lookup
    is pointed at the generic models for this call only (sync workers: one request at a
    time per process, so the patch cannot leak into a concurrent Launch request).
    """

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        with mock.patch.multiple(
            guardian.shortcuts,
            get_user_obj_perms_model=lambda *_: UserObjectPermission,
            get_group_obj_perms_model=lambda *_: GroupObjectPermission,
        ):
            return guardian.shortcuts.get_objects_for_user(
                request.user,
                "items.view_item",
                queryset,
                accept_global_perms=False,
                with_superuser=False,
            )


class ItemsGenericGuardian(ItemViewSet):
    filter_backends = [
        GenericGuardianFilter,
        *(b for b in ItemViewSet.filter_backends if b is not ObjectPermissionFilter),
    ]


items_list_generic_guardian = ItemsGenericGuardian.as_view({"get": "list"})
