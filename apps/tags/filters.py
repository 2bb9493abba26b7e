from __future__ import annotations

import django_filters

from apps.tags.models import Tag


class TagFilter(django_filters.FilterSet):
    color = django_filters.CharFilter(lookup_expr="iexact", help_text="Exact colour, #rrggbb.")

    class Meta:
        model = Tag
        fields = ["color"]
