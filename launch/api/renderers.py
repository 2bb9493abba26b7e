"""JSON rendering with orjson: several times faster than the stdlib encoder on large lists."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from rest_framework.renderers import BaseRenderer
from rest_framework.utils.encoders import JSONEncoder

_encoder = JSONEncoder()


def _default(value: Any) -> Any:
    # Anything orjson cannot encode natively (Decimal, lazy translations, ...) goes
    # through DRF's encoder, so the output matches DRF's JSONRenderer.
    return _encoder.default(value)


class ORJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if data is None:
            return b""
        return orjson.dumps(
            data, default=_default, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z
        )
