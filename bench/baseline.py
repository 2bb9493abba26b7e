"""The baseline: the least a Django view can do to answer the same rows.

No DRF, no authentication, no serializer: `.values()` and orjson. Launch's endpoints are
measured against these in the same run, on the same server.
"""

from __future__ import annotations

import orjson
from django.http import HttpRequest, HttpResponse

from apps.users.models import User

FIELDS = ("id", "email", "is_active", "is_superuser", "full_name")


def users_list_bare(request: HttpRequest) -> HttpResponse:
    limit = int(request.GET.get("limit", 50))
    rows = list(User.objects.order_by("email").values(*FIELDS)[:limit])
    body = {"data": rows, "count": User.objects.count()}
    return HttpResponse(orjson.dumps(body), content_type="application/json")


def users_me_bare(request: HttpRequest) -> HttpResponse:
    row = User.objects.filter(is_superuser=True).values(*FIELDS).order_by("email").first()
    return HttpResponse(orjson.dumps(row), content_type="application/json")
