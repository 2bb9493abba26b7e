"""`manage.py search "query" --user <email> [--project <id>] [--mode] [-k]`: the API's
search, with that user's permissions, from a terminal."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.projects import services
from apps.users.models import User
from launch.errors import NotFound
from launch.vector_store.services import SEARCH_MODES


class Command(BaseCommand):
    help = "Search documents as a user would through POST /api/v1/search."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("query")
        parser.add_argument("--user", required=True, help="Search with this user's access.")
        parser.add_argument(
            "--project", action="append", type=uuid.UUID, help="Project id (repeatable)."
        )
        parser.add_argument("--mode", choices=SEARCH_MODES, default="hybrid")
        parser.add_argument("-k", type=int, default=10)

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(email__iexact=options["user"]).first()
        if user is None:
            raise CommandError(f"No user with email {options['user']}.")
        if not 1 <= options["k"] <= 50:
            raise CommandError("-k must be between 1 and 50.")
        if not options["query"].strip():
            raise CommandError("The query is empty.")
        try:
            hits = services.document_search(
                user=user,
                query=options["query"],
                project_ids=options["project"],
                k=options["k"],
                mode=options["mode"],
            )
        except NotFound:
            raise CommandError("A project was not found or is not visible to this user.") from None
        for rank, hit in enumerate(hits, start=1):
            page = f" p.{hit.page_number}" if hit.page_number else ""
            self.stdout.write(f"{rank}. [{hit.score:.4f}] {hit.filename}{page} ({hit.document_id})")
            self.stdout.write(f"   {' '.join(hit.content.split())[:200]}")
        self.stdout.write(f"{len(hits)} results")
