"""Defaults live in config/settings only: each subsystem reads a frozen config built from
the settings, never a default of its own."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from launch.ai.embeddings import EmbeddingConfig
from launch.ai.extraction.base import ExtractionLimits
from launch.ai.llm import LLMConfig
from launch.vector_store.services.search import SearchTuning

ROOT = Path(__file__).resolve().parents[2]

CONFIGS = [
    (EmbeddingConfig, "EMBEDDING_BATCH_SIZE", "batch_size"),
    (LLMConfig, "LLM_MAX_ANSWER_TOKENS", "max_answer_tokens"),
    (ExtractionLimits, "DOCUMENT_MAX_PAGES", "max_pages"),
    (SearchTuning, "VECTOR_HNSW_EF_SEARCH", "hnsw_ef_search"),
]


@pytest.mark.parametrize(
    ("config", "name", "field"), CONFIGS, ids=lambda c: getattr(c, "__name__", c)
)
def test_each_config_is_frozen_and_follows_the_settings(config, name, field, settings):
    setattr(settings, name, 7)
    built = config.from_settings()
    assert getattr(built, field) == 7
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(built, field, 8)


@pytest.mark.parametrize(
    ("config", "name", "field"), CONFIGS, ids=lambda c: getattr(c, "__name__", c)
)
def test_configs_have_no_defaults_of_their_own(config, name, field):
    assert all(
        f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        for f in dataclasses.fields(config)
    )


def test_no_module_reads_a_setting_with_a_fallback_default():
    offenders = []
    for path in sorted([*ROOT.glob("launch/**/*.py"), *ROOT.glob("apps/**/*.py")]):
        if "migrations" in path.parts:
            continue
        text = path.read_text()
        if re.search(r"^def setting\(", text, re.MULTILINE):
            offenders.append(f"{path.relative_to(ROOT)}: a setting() helper")
        for match in re.finditer(r"getattr\(settings, \"([A-Z_]+)\", ", text):
            offenders.append(f"{path.relative_to(ROOT)}: {match.group(1)}")
    assert offenders == []
