"""CSV for usage reports: the rows of `data`, one line each, with a header."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer

COLUMNS = (
    "key",
    "label",
    "calls",
    "errors",
    "estimated_calls",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cost",
)


class UsageCSVRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        rows = data.get("data", []) if isinstance(data, Mapping) else []
        for row in rows:
            writer.writerow([_cell(row.get(column, "")) for column in COLUMNS])
        return out.getvalue().encode("utf-8")


def _cell(value: Any) -> Any:
    # A spreadsheet runs a cell starting with these as a formula (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
