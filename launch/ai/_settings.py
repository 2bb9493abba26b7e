"""Read optional Django settings without requiring Django to be configured.

These building blocks run in three places: inside Django (web, Celery), in the extraction
child process (which never configures Django) and in plain unit tests. Reading settings
through this helper lets each of them fall back to documented defaults.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured


def setting(name: str, default: Any) -> Any:
    """Return ``settings.<name>``, or ``default`` when unset or when Django is unconfigured."""
    from django.conf import settings

    try:
        return getattr(settings, name, default)
    except ImproperlyConfigured:
        return default
