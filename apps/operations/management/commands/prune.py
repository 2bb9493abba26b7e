"""`manage.py prune [--dry-run]`: the schedule's clean-up, on demand."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.operations.activity import system_activity
from apps.operations.services import PRUNE_STEPS


class Command(BaseCommand):
    help = (
        "Delete expired tokens, old task results and activity entries, orphaned document "
        "files and rolled-up usage-ledger rows past USAGE_RAW_RETENTION_DAYS, as the "
        "schedule does. --dry-run counts without deleting."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run: bool = options["dry_run"]
        counts: dict[str, int] = {}
        with system_activity("command", "prune"):
            for number, (label, step) in enumerate(PRUNE_STEPS.items(), start=1):
                self.stdout.write(f"[{number}/{len(PRUNE_STEPS)}] {label}...", ending=" ")
                counts[label] = step(dry_run=dry_run)
                self.stdout.write(str(counts[label]))
        verb = "would delete" if dry_run else "deleted"
        summary = ", ".join(f"{count} {label}" for label, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"prune: {verb} {summary}."))
