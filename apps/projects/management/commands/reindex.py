"""`manage.py reindex [--to PROVIDER[:MODEL]] [--dimensions N] [--project ID] [--inline]`.

Builds the vectors of another embedding model alongside the active ones, on the Celery
workers by default (with a progress bar while they work), switching each project as
soon as all its documents are done; search never stops and never mixes models. Without
`--to` the target is the configured model (EMBEDDING_PROVIDER, EMBEDDING_MODEL,
EMBEDDING_DIMENSIONS): change the settings, then run `reindex`. Re-running resumes.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from launch.ai.embeddings import EmbeddingConfig
from launch.vector_store.models import EmbeddingVersion, ScopeVersion, VectorRecord
from launch.vector_store.services import rollout
from launch.vector_store.services.versions import (
    STATE,
    VersionError,
    active_version,
    rollout_target,
)


def target_config(
    spec: str | None, dimensions: int | None, base_url: str | None
) -> EmbeddingConfig:
    """The configuration `--to` names, on top of the settings (secrets, timeouts)."""
    config = EmbeddingConfig.from_settings()
    if spec:
        provider, _, model = spec.partition(":")
        config = dataclasses.replace(config, provider=provider, model=model)
        if provider == "onnx" and dimensions is None:
            dimensions = 0  # read from the model
    if dimensions is not None:
        config = dataclasses.replace(config, dimensions=dimensions)
    if base_url:
        config = dataclasses.replace(config, base_url=base_url)
    return config


class Command(BaseCommand):
    help = (
        "Re-embed every stored chunk with another model alongside the active one, then "
        "switch each project atomically. Runs on the Celery workers unless --inline."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to",
            metavar="PROVIDER[:MODEL]",
            help="e.g. hashing, onnx:/models/all-MiniLM-L6-v2, openai:text-embedding-3-small "
            "(default: the configured EMBEDDING_* settings).",
        )
        parser.add_argument("--dimensions", type=int, help="Vector length of the new model.")
        parser.add_argument("--base-url", help="Endpoint of an openai-compatible provider.")
        parser.add_argument(
            "--project", action="append", type=uuid.UUID, help="Only these projects now."
        )
        parser.add_argument(
            "--inline", action="store_true", help="Work in this process instead of the workers."
        )
        parser.add_argument(
            "--no-wait", action="store_true", help="Queue the work and return at once."
        )
        parser.add_argument("--status", action="store_true", help="Show the versions and exit.")
        parser.add_argument("--cancel", action="store_true", help="Abandon the running rollout.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["status"]:
            self._status()
            return
        if options["cancel"]:
            target = rollout_target()
            if target is None:
                raise CommandError("No rollout is running.")
            rollout.rollout_cancel(version=target)
            self.stdout.write(f"cancelled {target.name}; its rows are being dropped")
            return
        config = target_config(options["to"], options["dimensions"], options["base_url"])
        try:
            version = rollout.rollout_start(
                config=config, scopes=options["project"], enqueue=not options["inline"]
            )
        except (VersionError, ValueError) as error:
            raise CommandError(str(error)) from error
        except Exception as error:  # a provider that cannot be built names its setting
            raise CommandError(f"Cannot use that model: {error}") from error
        active = active_version()
        if version.state == STATE.ACTIVE:
            self.stdout.write(f"{version.name} is active (nothing to rebuild)")
            return
        self.stdout.write(
            f"building {version.name} ({version.dimensions} dimensions) alongside "
            f"{active.name}: {version.scopes_total} scopes, {version.sources_total} sources"
        )
        if options["inline"]:
            self._inline(version, options["project"])
        elif not options["no_wait"]:
            self._watch(version)
        self._summary(version)

    def _bar(self, version: EmbeddingVersion) -> tqdm:
        return tqdm(
            total=version.sources_total,
            desc=f"reindex -> {version.name}",
            unit="source",
            file=self.stderr._out,
        )

    def _inline(self, version: EmbeddingVersion, projects: list[uuid.UUID] | None) -> None:
        assert version.replaces is not None
        scopes = projects or list(
            VectorRecord.objects.filter(version=version.replaces)
            .values_list("scope_id", flat=True)
            .distinct()
        )
        with self._bar(version) as bar:
            for scope_id in scopes:
                rollout.rollout_build_scope(
                    version_id=version.pk, scope_id=scope_id, on_source=lambda: bar.update(1)
                )

    def _watch(self, version: EmbeddingVersion) -> None:
        with self._bar(version) as bar:
            while True:
                progress = rollout.rollout_progress(version)
                bar.update(progress["sources_done"] - bar.n)
                if version.state != STATE.BUILDING:
                    break
                if version.last_error:
                    bar.set_postfix_str(f"retrying: {version.last_error[:60]}")
                time.sleep(1.0)

    def _summary(self, version: EmbeddingVersion) -> None:
        version.refresh_from_db()
        switched = ScopeVersion.objects.filter(version=version).count()
        if version.state == STATE.ACTIVE:
            self.stdout.write(f"{version.name} is active; the old version is being dropped")
        elif version.state == STATE.BUILDING:
            self.stdout.write(
                f"{version.name}: {switched} of {version.scopes_total} scopes switched; "
                "run the same command again to resume"
            )
        else:
            self.stdout.write(f"{version.name} was cancelled")

    def _status(self) -> None:
        for version in EmbeddingVersion.objects.order_by("created_at"):
            self.stdout.write(
                f"{version.state:9} {version.name} ({version.provider}, {version.dimensions} "
                f"dims) scopes {version.scopes_done}/{version.scopes_total}"
            )
