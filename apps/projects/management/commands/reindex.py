"""`manage.py reindex [--project <id>]`: re-embed documents with the current provider.

Resumable: a document whose chunks all carry the current model's name is skipped, so an
interrupted run continues where it stopped.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.projects import services
from apps.projects.models import Document, Project
from apps.projects.selectors import documents_needing_reindex
from launch.ai.embeddings import get_embedding_provider


class Command(BaseCommand):
    help = "Re-embed completed documents whose vectors are not from the current model."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--project", help="Only this project's documents.")

    def handle(self, *args: Any, **options: Any) -> None:
        documents = Document.objects.filter(status=Document.Status.COMPLETED)
        if options["project"]:
            if not Project.objects.filter(pk=options["project"]).exists():
                raise CommandError(f"No project with id {options['project']}.")
            documents = documents.filter(project_id=options["project"])
        model = get_embedding_provider().model_name
        todo = list(documents_needing_reindex(documents, model).values_list("pk", flat=True))
        skipped = documents.count() - len(todo)
        failures: list[tuple[str, str]] = []
        for pk in tqdm(todo, desc=f"reindex ({model})", unit="doc", file=self.stderr._out):
            status = services.document_process(document_id=pk)
            if status == Document.Status.FAILED:
                document = Document.objects.get(pk=pk)
                failures.append((document.filename, document.error_message or ""))
        self.stdout.write(
            f"{len(todo) - len(failures)} reindexed, {skipped} already current, "
            f"{len(failures)} failed"
        )
        for name, reason in failures:
            self.stdout.write(f"  {name}: {reason}")
