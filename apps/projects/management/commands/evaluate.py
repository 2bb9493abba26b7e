"""`manage.py evaluate DATASET [--k 1 5 10] [--modes ...] [--model P[:M]] [--output out.json]
[--compare previous.json] [--project ID]`: retrieval quality as numbers.

DATASET is a folder in the BEIR layout (corpus.jsonl, queries.jsonl, qrels/test.tsv),
e.g. the shipped `eval/rust-notes` or a BEIR dataset you downloaded. The corpus goes
through the real ingestion pipeline into a throwaway project (removed afterwards) or
`--project`'s (kept, and reused by the next run); every query runs in each mode.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.projects.management.commands.reindex import target_config
from apps.projects.models import Project
from apps.projects.services.evaluation import (
    compare,
    evaluation_cleanup,
    evaluation_prepare,
    evaluation_search,
)
from launch.evaluation import beir, metrics
from launch.vector_store.services import SEARCH_MODES


def table(report: dict[str, Any], deltas: dict[str, dict[str, float]] | None) -> str:
    columns = [f"recall@{k}" for k in report["k"]] + ["MRR@10", "nDCG@10", "p50_ms", "p95_ms"]
    header = ["mode", *columns]
    rows = [header]
    for mode, figures in report["modes"].items():
        cells = [mode]
        for column in columns:
            cell = f"{figures[column]:.3f}" if "ms" not in column else f"{figures[column]:.1f}"
            delta = (deltas or {}).get(mode, {}).get(column)
            if delta is not None and "ms" not in column:
                cell += f" ({delta:+.3f})"
            cells.append(cell)
        rows.append(cells)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Measure retrieval quality (recall@k, MRR@10, nDCG@10) and latency on a BEIR dataset."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("dataset", type=Path, help="A folder in the BEIR layout.")
        parser.add_argument("--k", type=int, nargs="+", default=[1, 5, 10])
        parser.add_argument("--modes", nargs="+", choices=SEARCH_MODES, default=list(SEARCH_MODES))
        parser.add_argument(
            "--model",
            metavar="PROVIDER[:MODEL]",
            help="Evaluate this model instead of the configured one (as reindex --to).",
        )
        parser.add_argument("--dimensions", type=int, help="Vector length for --model.")
        parser.add_argument("--split", default="test", help="qrels/<split>.tsv (default test).")
        parser.add_argument(
            "--project", type=uuid.UUID, help="Ingest into (and keep) this project."
        )
        parser.add_argument("--output", type=Path, help="Write the report as JSON here.")
        parser.add_argument("--compare", type=Path, help="A previous --output, to show changes.")

    @staticmethod
    def _inputs(options: dict[str, Any]) -> tuple[beir.Dataset, Any, Project | None]:
        if any(k < 1 for k in options["k"]):
            raise CommandError("--k values must be at least 1.")
        try:
            dataset = beir.load(options["dataset"], options["split"])
        except beir.DatasetError as error:
            raise CommandError(str(error)) from error
        previous = None
        if options["compare"]:
            try:
                previous = json.loads(options["compare"].read_text())
            except (OSError, ValueError) as error:
                raise CommandError(f"Cannot read {options['compare']}: {error}") from error
        project = None
        if options["project"]:
            project = Project.objects.filter(pk=options["project"]).first()
            if project is None:
                raise CommandError(f"No project with id {options['project']}.")
        return dataset, previous, project

    def handle(self, *args: Any, **options: Any) -> None:
        dataset, previous, project = self._inputs(options)
        config = None
        if options["model"] or options["dimensions"]:
            config = target_config(options["model"], options["dimensions"], None)

        def bar(items: Iterable[Any], label: str) -> Iterable[Any]:
            return tqdm(items, desc=label, unit="item", file=self.stderr._out, leave=False)

        try:
            setup = evaluation_prepare(
                dataset=dataset, config=config, project=project, progress=bar
            )
        except Exception as error:  # a model that cannot load names its setting
            raise CommandError(f"Cannot evaluate: {error}") from error
        try:
            report = evaluation_search(
                setup=setup,
                dataset=dataset,
                ks=sorted(set(options["k"])),
                modes=options["modes"],
                progress=bar,
            )
        finally:
            evaluation_cleanup(setup=setup)
        deltas = compare(report, previous) if previous else None
        if deltas is not None:
            report["compared_with"] = str(options["compare"])
            report["deltas"] = deltas
        self.stdout.write(
            f"{dataset.name}: {report['documents']} documents, {report['queries']} queries, "
            f"{report['embedding_version']} ({report['dimensions']} dimensions)"
        )
        if setup.failed:
            self.stdout.write(f"{len(setup.failed)} documents failed to ingest: {setup.failed[:5]}")
        self.stdout.write(table(report, deltas))
        for name, meaning in metrics.DEFINITIONS.items():
            self.stdout.write(f"  {name}: {meaning}")
        if options["output"]:
            options["output"].write_text(json.dumps(report, indent=2) + "\n")
            self.stdout.write(f"wrote {options['output']}")
