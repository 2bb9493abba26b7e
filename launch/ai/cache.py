"""One client object per process for the current configuration (providers, chat models)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

C = TypeVar("C", bound=Hashable)
T = TypeVar("T")


class PerConfiguration(Generic[C, T]):
    """Builds one object for a configuration and keeps it until the configuration
    changes (``override_settings`` in tests), closing the object it replaces."""

    def __init__(self, build: Callable[[C], T]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._entry: tuple[C, T] | None = None

    def get(self, config: C) -> T:
        with self._lock:
            if self._entry is not None and self._entry[0] == config:
                return self._entry[1]
            built = self._build(config)
            self._drop()
            self._entry = (config, built)
            return built

    def _drop(self) -> None:
        if self._entry is not None:
            close = getattr(self._entry[1], "close", None)
            if callable(close):
                close()
            self._entry = None
