#!/usr/bin/env python
"""Django's command-line utility. Settings default to `config.settings.local`."""

import contextlib
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    if sys.argv[1:2] != ["runserver"]:
        # Only request-serving processes run under DB_STATEMENT_TIMEOUT_MS: a migration
        # or a reindex may rightly run longer (launch/db.py).
        from launch.db import use_background_statement_timeout

        # A settings error is reported by execute_from_command_line, in its own words.
        with contextlib.suppress(ImproperlyConfigured):
            use_background_statement_timeout()

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
