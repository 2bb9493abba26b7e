from __future__ import annotations

import django_filters

from apps.items.models import Item


class ItemFilter(django_filters.FilterSet):
    tag = django_filters.UUIDFilter(field_name="tags__id", help_text="Only items with this tag.")

    class Meta:
        model = Item
        fields = ["tag"]
