"""System checks of Launch's own (`manage.py check --deploy`)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

# Caches that each process keeps to itself: throttles counted there multiply by the
# number of processes and containers.
PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@register(Tags.caches, Tags.security, deploy=True)
def check_shared_cache(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """In production the default cache must be shared by every process (Redis)."""
    if settings.DEBUG:
        return []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend not in PER_PROCESS_CACHES:
        return []
    return [
        Error(
            f"The default cache ({backend.rsplit('.', 1)[-1]}) is private to each process, "
            "so every throttle and rate limit multiplies by the number of processes.",
            hint="Set REDIS_URL (or CACHE_URL) to a Redis shared by all web processes.",
            id="launch.E001",
        )
    ]
