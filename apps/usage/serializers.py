from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework import serializers

from apps.usage.selectors import GROUPS

DEFAULT_DAYS = 30


class UsageQuerySerializer(serializers.Serializer):
    """`from`/`to` are UTC days, both included; by default the last 30 days."""

    to = serializers.DateField(required=False)
    group_by = serializers.ChoiceField(choices=GROUPS, default="day")
    team = serializers.UUIDField(required=False)

    def __init__(self, *args: Any, groups: tuple[str, ...] = GROUPS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group_by"] = serializers.ChoiceField(choices=groups, default="day")
        # `from` is a Python keyword, so it cannot be declared in the class body.
        self.fields["from"] = serializers.DateField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        end: datetime.date = attrs.get("to") or timezone.now().date()
        start: datetime.date = attrs.get("from") or end - datetime.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise serializers.ValidationError({"from": "`from` must not be after `to`."})
        limit = int(settings.USAGE_MAX_RANGE_DAYS)
        if (end - start).days + 1 > limit:
            raise serializers.ValidationError(
                {"to": f"The range may span at most {limit} days (USAGE_MAX_RANGE_DAYS)."}
            )
        attrs["from"], attrs["to"] = start, end
        return attrs


class UsageRowSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text="The day (YYYY-MM-DD), model, purpose, user or project id."
    )
    # DRF moves declared fields out of the class namespace, so `label`, `errors` and
    # `data` shadow nothing at run time; mypy cannot see that.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="A readable name for the key (a user's email)."
    )
    calls = serializers.IntegerField()
    errors = serializers.IntegerField(  # type: ignore[assignment]
        help_text="Calls that failed or were cancelled."
    )
    estimated_calls = serializers.IntegerField(
        help_text="Calls whose token counts are estimates (the provider reported none)."
    )
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    cost = serializers.DecimalField(max_digits=20, decimal_places=8)


class UsageTotalsSerializer(serializers.Serializer):
    calls = serializers.IntegerField()
    errors = serializers.IntegerField()  # type: ignore[assignment]
    estimated_calls = serializers.IntegerField()
    input_tokens = serializers.IntegerField()
    output_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    cost = serializers.DecimalField(max_digits=20, decimal_places=8)


class UsageReportSerializer(serializers.Serializer):
    data = UsageRowSerializer(many=True)  # type: ignore[assignment]
    count = serializers.IntegerField()
    totals = UsageTotalsSerializer()
    group_by = serializers.CharField()
    to = serializers.DateField()
    team = serializers.UUIDField(allow_null=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = serializers.DateField()
