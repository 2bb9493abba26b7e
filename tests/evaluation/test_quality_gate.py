"""The CI quality gate: the shipped evaluation set must not score below the recorded
figures (quality only: timing never gates). Also `evaluate` end to end: the BEIR
reader, a throwaway project cleaned up afterwards, a reused project, --compare, and the
local ONNX provider on a tiny model the test builds."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.projects.models import Document, Project
from apps.users.models import User
from launch.evaluation import beir
from launch.vector_store.models import EmbeddingVersion, VectorRecord
from tests.projects.conftest import create_project
from tests.support.tiny_onnx import build_model

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent.parent
DATASET = ROOT / "eval" / "rust-notes"
RECORDED = json.loads((ROOT / "eval" / "recorded.json").read_text())


def evaluate(*args: str) -> tuple[str, dict]:
    out = StringIO()
    output = Path(args[-1]) if "--output" in args else None
    call_command("evaluate", *args, stdout=out, stderr=StringIO())
    return out.getvalue(), json.loads(output.read_text()) if output else {}


def test_the_shipped_set_is_a_valid_beir_dataset_with_paraphrases():
    dataset = beir.load(DATASET)
    assert len(dataset.corpus) >= 40
    assert len(dataset.queries) >= 30
    assert all(dataset.qrels[q] for q in dataset.queries)


def test_quality_does_not_drop_below_the_recorded_figures(tmp_path: Path):
    text, report = evaluate(str(DATASET), "--output", str(tmp_path / "now.json"))

    floors = RECORDED["rust-notes"][report["embedding_version"]]
    tolerance = RECORDED["tolerance"]
    drops = [
        f"{mode} {metric}: {report['modes'][mode][metric]} < recorded {floor}"
        for mode, figures in floors.items()
        for metric, floor in figures.items()
        if report["modes"][mode][metric] < floor - tolerance
    ]
    assert not drops, "retrieval quality dropped:\n" + "\n".join(drops)
    assert "nDCG@10: DCG@10 / ideal DCG@10" in text  # the definitions are printed
    # The throwaway project, its documents, vectors and owner are gone.
    assert not Project.objects.exists()
    assert not Document.objects.exists()
    assert not VectorRecord.objects.exists()
    assert not User.objects.filter(email__endswith="@launch.invalid").exists()


def test_a_tiny_local_model_evaluates_in_a_reused_project_and_compares(tmp_path: Path, user):
    project = create_project(owner=user)
    model = build_model(tmp_path / "tiny-encoder")
    _, hashing = evaluate(
        str(DATASET), "--project", str(project.pk), "--modes", "keyword", "semantic",
        "--output", str(tmp_path / "hashing.json"),
    )  # fmt: skip
    documents = Document.objects.filter(project=project).count()

    text, tiny = evaluate(
        str(DATASET), "--project", str(project.pk), "--modes", "keyword", "semantic",
        "--model", f"onnx:{model}", "--compare", str(tmp_path / "hashing.json"),
        "--output", str(tmp_path / "tiny.json"),
    )  # fmt: skip

    assert Document.objects.filter(project=project).count() == documents  # reused
    assert (tiny["provider"], tiny["dimensions"]) == ("onnx", 8)
    # Keyword search does not depend on the embedding model.
    assert tiny["modes"]["keyword"] == {
        **hashing["modes"]["keyword"],
        "p50_ms": tiny["modes"]["keyword"]["p50_ms"],
        "p95_ms": tiny["modes"]["keyword"]["p95_ms"],
    }
    assert tiny["deltas"]["keyword"]["nDCG@10"] == 0.0
    assert 0.0 <= tiny["modes"]["semantic"]["nDCG@10"] <= 1.0
    assert "(+0.000)" in text
    # The version registered for the evaluation is gone with its vectors.
    assert not EmbeddingVersion.objects.filter(provider="onnx").exists()


def test_bad_datasets_and_arguments_are_clear_errors(tmp_path: Path):
    with pytest.raises(CommandError, match=r"corpus\.jsonl is missing"):
        evaluate(str(tmp_path))
    (tmp_path / "corpus.jsonl").write_text('{"_id": "d1", "text": "x"}\n')
    (tmp_path / "queries.jsonl").write_text("not json\n")
    with pytest.raises(CommandError, match=r"queries\.jsonl:1 is not JSON"):
        evaluate(str(tmp_path))
    with pytest.raises(CommandError, match="at least 1"):
        evaluate(str(DATASET), "--k", "0")
