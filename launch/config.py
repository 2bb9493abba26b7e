"""Frozen configurations built from the Django settings.

Defaults live in config/settings only. A subsystem declares what it reads as a frozen
dataclass deriving from `SettingsConfig`, whose fields are named after its settings
(`EMBEDDING_BATCH_SIZE` is the field `batch_size` of the config with the prefix
`EMBEDDING_`), and builds it with `from_settings()`: no default, and no second reader
of a setting, lives anywhere else.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, ClassVar, Self

# Field annotations are strings (`from __future__ import annotations`); settings a test
# sets by hand may come as another type, so values are converted to the declared one.
_CONVERT: dict[str, Any] = {"int": int, "float": float, "str": str, "bool": bool}


class SettingsConfig:
    """Base of a frozen dataclass read from the settings named `PREFIX + FIELD_NAME`."""

    PREFIX: ClassVar[str]

    @classmethod
    def from_settings(cls) -> Self:
        from django.conf import settings

        values = {}
        for field in fields(cls):  # type: ignore[arg-type]
            value = getattr(settings, cls.PREFIX + field.name.upper())
            convert = _CONVERT.get(str(field.type))
            values[field.name] = convert(value) if convert else value
        return cls(**values)
