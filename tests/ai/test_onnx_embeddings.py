"""The local ONNX Runtime provider, on a tiny model the test builds (no download)."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from launch.ai.embeddings import EmbeddingConfig, build_embedding_provider
from launch.ai.embeddings.base import EmbeddingConfigurationError
from launch.ai.embeddings.onnx import OnnxEmbeddingProvider
from tests.support.tiny_onnx import DIMENSIONS, build_model


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_model(tmp_path_factory.mktemp("tiny") / "tiny-encoder")


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_synonyms_sharing_no_letters_embed_close(model_dir: Path):
    provider = OnnxEmbeddingProvider(model=str(model_dir))
    car, automobile, ocean = provider.embed_documents(["a red car", "the automobile", "the sea"])

    assert cosine(car, automobile) > 0.95
    assert cosine(car, ocean) < 0.2
    assert provider.embed_query("Automobile") == pytest.approx(
        provider.embed_documents(["automobile"])[0]
    )


def test_vectors_are_unit_length_in_input_order_across_batches(model_dir: Path):
    provider = OnnxEmbeddingProvider(model=str(model_dir), batch_size=2)
    texts = ["sea", "a car and a sedan drove by", "invoice", "unknown words only", ""]
    vectors = provider.embed_documents(texts)

    assert len(vectors) == len(texts)
    assert provider.dimensions == DIMENSIONS
    for vector in vectors:
        assert math.sqrt(sum(v * v for v in vector)) == pytest.approx(1.0, abs=1e-5)
    one_by_one = [provider.embed_documents([text])[0] for text in texts]
    for batched, alone in zip(vectors, one_by_one, strict=True):
        assert batched == pytest.approx(alone, abs=1e-6)
    assert provider.model_name == "tiny-encoder"


def test_the_provider_is_chosen_by_settings(model_dir: Path):
    config = replace(
        EmbeddingConfig.from_settings(), provider="onnx", model=str(model_dir), dimensions=0
    )
    provider = build_embedding_provider(config)
    assert provider.dimensions == DIMENSIONS

    wrong = replace(
        EmbeddingConfig.from_settings(), provider="onnx", model=str(model_dir), dimensions=384
    )
    with pytest.raises(ImproperlyConfigured, match="8-dimensional"):
        build_embedding_provider(wrong)


def test_a_missing_model_is_a_clear_error_never_a_download(tmp_path: Path):
    with pytest.raises(EmbeddingConfigurationError, match="never downloaded"):
        OnnxEmbeddingProvider(model=str(tmp_path))
    with pytest.raises(EmbeddingConfigurationError, match="EMBEDDING_MODEL"):
        OnnxEmbeddingProvider(model="")
    (tmp_path / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(EmbeddingConfigurationError, match=r"tokenizer\.json"):
        OnnxEmbeddingProvider(model=str(tmp_path))


def test_a_model_file_can_be_named_directly(model_dir: Path):
    provider = OnnxEmbeddingProvider(model=str(model_dir / "model.onnx"))
    assert provider.dimensions == DIMENSIONS
