from __future__ import annotations

from typing import Any

import django_filters
from auditlog.models import LogEntry
from django.core.validators import RegexValidator
from django.db.models import Q, QuerySet
from django.db.models.fields.json import KeyTextTransform


class ActivityFilter(django_filters.FilterSet):
    actor_id = django_filters.UUIDFilter(field_name="actor_id")
    object_type = django_filters.CharFilter(
        method="filter_object_type",
        validators=[RegexValidator(r"^\w+\.\w+$", "Use app_label.model, e.g. items.item.")],
        help_text="app_label.model, e.g. items.item",
    )
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lte")
    rights = django_filters.BooleanFilter(
        method="filter_rights",
        help_text="true: only changes of rights (grants, roles, role and user permissions, "
        "staff and superuser flags); false: everything else.",
    )

    team_id = django_filters.UUIDFilter(
        method="filter_team",
        help_text="Only entries about this team or the objects it owns.",
    )

    class Meta:
        model = LogEntry
        fields = ["actor_id", "object_type", "since", "until", "rights", "team_id"]

    def filter_team(
        self, queryset: QuerySet[LogEntry], name: str, value: Any
    ) -> QuerySet[LogEntry]:
        if value is None:
            return queryset
        # The same expression as the index of operations.0003.
        team = KeyTextTransform("team", "additional_data")
        return queryset.alias(team=team).filter(team=str(value))

    def filter_rights(
        self, queryset: QuerySet[LogEntry], name: str, value: bool | None
    ) -> QuerySet[LogEntry]:
        if value is None:
            return queryset
        marked = Q(additional_data__has_key="rights")
        return queryset.filter(marked if value else ~marked | Q(additional_data__isnull=True))

    def filter_object_type(
        self, queryset: QuerySet[LogEntry], name: str, value: Any
    ) -> QuerySet[LogEntry]:
        app_label, model = str(value).lower().split(".", 1)
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)
