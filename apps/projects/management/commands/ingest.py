"""`manage.py ingest PATH --project <id> [--recursive] [--user <email>] [--async]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.projects import services
from apps.projects.models import Document, Project
from apps.users.models import User
from launch.ai.extraction import UnsupportedDocumentType
from launch.errors import QuotaExceeded


class Command(BaseCommand):
    help = (
        "Import a file or a folder of documents into a project. Processes in this process "
        "by default (no worker needed); --async queues them for the Celery workers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--project", required=True, help="Project id.")
        parser.add_argument("--recursive", action="store_true", help="Descend into folders.")
        parser.add_argument("--user", help="Uploader's email (default: the project owner).")
        parser.add_argument(
            "--async", dest="run_async", action="store_true", help="Queue instead of processing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        project = Project.objects.select_related("owner").filter(pk=options["project"]).first()
        if project is None:
            raise CommandError(f"No project with id {options['project']}.")
        user = project.owner
        if options["user"]:
            named = User.objects.filter(email__iexact=options["user"]).first()
            if named is None:
                raise CommandError(f"No user with email {options['user']}.")
            user = named
        files = self._files(options["path"], recursive=options["recursive"])
        if not files:
            raise CommandError(f"No files found at {options['path']}.")

        completed, queued, failures = 0, 0, []
        for path in tqdm(files, desc="ingest", unit="file", file=self.stderr._out):
            status, reason = self._ingest(path, project, user, run_async=options["run_async"])
            if status == Document.Status.COMPLETED:
                completed += 1
            elif status == Document.Status.PENDING:
                queued += 1
            else:
                failures.append((path, reason))
        summary = f"{completed} completed, {len(failures)} failed"
        if options["run_async"]:
            summary += f", {queued} queued"
        self.stdout.write(summary)
        for path, reason in failures:
            self.stdout.write(f"  {path}: {reason}")

    @staticmethod
    def _files(path: Path, *, recursive: bool) -> list[Path]:
        if path.is_file():
            return [path]
        if not path.is_dir():
            return []
        found = path.rglob("*") if recursive else path.iterdir()
        return sorted(p for p in found if p.is_file() and not p.name.startswith("."))

    @staticmethod
    def _ingest(path: Path, project: Project, user: User, *, run_async: bool) -> tuple[str, str]:
        try:
            with path.open("rb") as handle:
                document = services.document_upload(
                    user=user,
                    project=project,
                    upload=File(handle, name=path.name),
                    filename=path.name,
                    enqueue=run_async,
                )
        except services.UploadTooLarge:
            return "failed", "larger than DOCUMENT_MAX_UPLOAD_MB"
        except (UnsupportedDocumentType, QuotaExceeded) as error:
            # QuotaExceeded: the project's team is at its plan's documents or storage.
            return "failed", error.message
        if run_async:
            return Document.Status.PENDING, ""
        services.document_ingest(document_id=document.pk)
        document.refresh_from_db()
        return document.status, document.error_message or ""
