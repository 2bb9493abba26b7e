"""The baseline: the least a Django view can do to answer the same rows.

No DRF, no authentication, no serializer: `.values()` and orjson, answering the same JSON
as Launch (the same fields, roles included, from the same SQL), so the comparison
measures what the framework around the query costs. Launch's endpoints are measured
against these in the same run, on the same server.

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
from apps.users.selectors import user_list_values
from launch.api.filters import ObjectPermissionFilter

ORJSON_OPTIONS = orjson.OPT_UTC_Z


def users_list_bare(request: HttpRequest) -> HttpResponse:
    limit = int(request.GET.get("limit", 50))
    rows = list(user_list_values()[:limit])
    body = {"data": rows, "count": User.objects.count()}
    return HttpResponse(orjson.dumps(body, option=ORJSON_OPTIONS), content_type="application/json")


def users_me_bare(request: HttpRequest) -> HttpResponse:
    row = user_list_values().filter(email="root@bench.io").first()
    return HttpResponse(orjson.dumps(row, option=ORJSON_OPTIONS), content_type="application/json")


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
