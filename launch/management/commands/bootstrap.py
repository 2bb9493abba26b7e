"""`manage.py bootstrap`: create what the platform needs to exist. Idempotent.

Each step is a function that makes sure one thing exists and returns a line for the
operator; add a step by adding it to `STEPS`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from apps.operations.schedule import bootstrap_step as default_schedule
from apps.rbac.services import roles_ensure_defaults
from apps.users.services import user_ensure_first_superuser
from launch.storage import storage_bootstrap_step as file_storage


def credentials_file() -> Path:
    return Path(settings.FIRST_SUPERUSER_FILE)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    path.chmod(0o600)  # O_CREAT's mode does not apply to a file that already existed


def first_superuser() -> str:
    result = user_ensure_first_superuser()
    email = result.user.email
    if not result.created:
        return f"First superuser {email} already exists."
    if result.generated_password is None:
        return f"Created the first superuser {email} (password from FIRST_SUPERUSER_PASSWORD)."
    path = credentials_file()
    _write_private(path, f"email: {email}\npassword: {result.generated_password}\n")
    return (
        f"Created the first superuser {email} with the generated password "
        f"{result.generated_password} (also saved, mode 600, in {path})."
    )


def default_roles() -> str:
    names = ", ".join(role.name for role in roles_ensure_defaults())
    return f"Default roles present: {names}."


STEPS: list[Callable[[], str]] = [
    file_storage,
    default_roles,
    first_superuser,
    default_schedule,
]


class Command(BaseCommand):
    help = "Create the first superuser and anything else the platform needs. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        for step in STEPS:
            try:
                line = step()
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(line)
