"""Embedding providers: the offline hashing model, and the HTTP provider against a real server."""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from launch.ai.embeddings import (
    EmbeddingConfig,
    EmbeddingDimensionError,
    EmbeddingProvider,
    EmbeddingRateLimited,
    EmbeddingResponseError,
    EmbeddingTimeout,
    EmbeddingUnavailable,
    HashingEmbeddingProvider,
    OpenAIEmbeddingProvider,
    build_embedding_provider,
    get_embedding_provider,
)
from tests.support.llm_server import LLMServer


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


# -- hashing ---------------------------------------------------------------------------


def test_hashing_is_deterministic_across_instances() -> None:
    text = "Quarterly revenue grew by 12% in the EMEA region."
    first = HashingEmbeddingProvider(384).embed_query(text)
    second = HashingEmbeddingProvider(384).embed_documents([text])[0]
    assert first == second
    assert len(first) == 384


def test_hashing_vectors_are_unit_length_even_for_degenerate_text() -> None:
    provider = HashingEmbeddingProvider(dimensions=64)
    for text in ["A normal sentence about invoices.", "", "   ", "---!!!", "x"]:
        vector = provider.embed_query(text)
        assert len(vector) == 64
        assert math.isclose(math.sqrt(sum(v * v for v in vector)), 1.0, rel_tol=1e-9)


def test_hashing_scores_related_text_above_unrelated_text() -> None:
    provider = HashingEmbeddingProvider(384)
    query = provider.embed_query("How do I reset my account password?")
    related, unrelated = provider.embed_documents(
        [
            "To reset the password of your account, open settings and choose 'reset password'.",
            "The migration of arctic terns spans from the Arctic to the Antarctic every year.",
        ]
    )
    assert cosine(query, related) > cosine(query, unrelated) + 0.2


def test_hashing_matches_word_variants_through_character_ngrams() -> None:
    provider = HashingEmbeddingProvider(384)
    base = provider.embed_query("invoice")
    assert cosine(base, provider.embed_query("invoices")) > 0.3
    assert cosine(base, provider.embed_query("giraffe")) < 0.1


def test_hashing_model_name_encodes_version_and_dimensions() -> None:
    provider = HashingEmbeddingProvider(dimensions=256)
    assert provider.model_name == "hashing-v1-256"
    assert isinstance(provider, EmbeddingProvider)


# -- OpenAI-compatible provider ----------------------------------------------------------


@pytest.fixture
def server() -> Iterator[LLMServer]:
    with LLMServer(dimensions=8) as running:
        yield running


def make_provider(server: LLMServer, **overrides: object) -> OpenAIEmbeddingProvider:
    options: dict[str, object] = {
        "base_url": server.url,
        "model": "test-embed",
        "dimensions": 8,
        "timeout": 2.0,
        "batch_size": 64,
        "max_retries": 3,
        "sleep": lambda _seconds: None,
    }
    options.update(overrides)
    return OpenAIEmbeddingProvider(**options)  # type: ignore[arg-type]


def test_openai_batches_inputs_and_returns_vectors_in_input_order(server: LLMServer) -> None:
    server.reverse_embeddings = True  # items arrive out of order; `index` decides
    texts = [f"passage number {i}" for i in range(10)]
    vectors = make_provider(server, batch_size=4).embed_documents(texts)

    requests = server.requests_to("/embeddings")
    assert [len(r.body["input"]) for r in requests] == [4, 4, 2]
    assert all(r.body["model"] == "test-embed" for r in requests)
    assert vectors == [LLMServer.embedding_for(text, 8) for text in texts]


def test_openai_sends_bearer_token_only_when_configured(server: LLMServer) -> None:
    server.api_key = "sk-test"
    make_provider(server, api_key="sk-test").embed_query("hello")
    assert server.requests[0].headers["authorization"] == "Bearer sk-test"

    server.api_key = None
    make_provider(server).embed_query("hello")
    assert "authorization" not in server.requests[1].headers


def test_openai_rejected_credentials_fail_without_retrying(server: LLMServer) -> None:
    server.api_key = "sk-right"
    with pytest.raises(EmbeddingResponseError, match="401"):
        make_provider(server, api_key="sk-wrong").embed_query("hello")
    assert len(server.requests) == 1


def test_openai_retries_429_honouring_retry_after(server: LLMServer) -> None:
    slept: list[float] = []
    server.fail_next(429, times=2, retry_after=3)
    vector = make_provider(server, sleep=slept.append).embed_query("hello")
    assert vector == LLMServer.embedding_for("hello", 8)
    assert len(server.requests) == 3
    assert slept == [3.0, 3.0]


def test_openai_caps_retry_after(server: LLMServer) -> None:
    slept: list[float] = []
    server.fail_next(503, times=1, retry_after=3600)
    make_provider(server, sleep=slept.append, backoff_max=5.0).embed_query("hello")
    assert slept == [5.0]


def test_openai_gives_up_after_max_retries_with_a_typed_error(server: LLMServer) -> None:
    server.fail_next(429, times=10, retry_after=0)
    with pytest.raises(EmbeddingRateLimited) as raised:
        make_provider(server, max_retries=2).embed_query("hello")
    assert raised.value.status_code == 429
    assert raised.value.attempts == 3
    assert len(server.requests) == 3


def test_openai_retries_server_errors_and_dropped_connections(server: LLMServer) -> None:
    server.fail_next(500, times=1)
    server.disconnect_next(times=1)
    assert len(make_provider(server).embed_query("hello")) == 8
    assert len(server.requests) == 3

    server.reset()
    server.fail_next(502, times=5)
    with pytest.raises(EmbeddingUnavailable) as raised:
        make_provider(server, max_retries=1).embed_query("hello")
    assert raised.value.status_code == 502


def test_openai_times_out_on_a_stalled_server(server: LLMServer) -> None:
    server.stall_next(seconds=5, times=2)
    with pytest.raises(EmbeddingTimeout, match="did not answer in time"):
        make_provider(server, timeout=0.2, max_retries=1).embed_query("hello")
    assert len(server.requests) == 2


def test_openai_rejects_vectors_of_the_wrong_dimension(server: LLMServer) -> None:
    server.dimensions = 12
    with pytest.raises(EmbeddingDimensionError, match="12-dimensional"):
        make_provider(server).embed_documents(["a", "b"])


def test_openai_reports_malformed_responses(server: LLMServer) -> None:
    server.malformed_next()
    with pytest.raises(EmbeddingResponseError, match="unexpected body"):
        make_provider(server).embed_query("hello")


def test_openai_can_request_shortened_vectors(server: LLMServer) -> None:
    vector = make_provider(server, dimensions=4, send_dimensions=True).embed_query("hi")
    assert len(vector) == 4
    assert server.requests[0].body["dimensions"] == 4


def test_openai_empty_input_makes_no_request(server: LLMServer) -> None:
    assert make_provider(server).embed_documents([]) == []
    assert server.requests == []


# -- choosing a provider -----------------------------------------------------------------


def test_build_rejects_an_unknown_provider_naming_the_setting() -> None:
    with pytest.raises(ImproperlyConfigured, match="EMBEDDING_PROVIDER"):
        build_embedding_provider(replace(EmbeddingConfig.from_settings(), provider="word2vec"))


def test_build_openai_requires_a_base_url_and_model() -> None:
    with pytest.raises(ImproperlyConfigured, match="EMBEDDING_BASE_URL"):
        build_embedding_provider(
            replace(EmbeddingConfig.from_settings(), provider="openai", model="m")
        )
    with pytest.raises(ImproperlyConfigured, match="EMBEDDING_MODEL"):
        build_embedding_provider(
            replace(EmbeddingConfig.from_settings(), provider="openai", base_url="http://x/v1")
        )


def test_build_openai_from_config(server: LLMServer) -> None:
    config = replace(
        EmbeddingConfig.from_settings(),
        provider="openai",
        model="m",
        dimensions=8,
        base_url=server.url,
    )
    provider = build_embedding_provider(config)
    assert (provider.model_name, provider.dimensions) == ("m", 8)
    assert len(provider.embed_query("hello")) == 8


def test_config_repr_hides_the_api_key() -> None:
    assert "sk-secret" not in repr(replace(EmbeddingConfig.from_settings(), api_key="sk-secret"))


def test_get_embedding_provider_is_cached_per_configuration(settings: Any) -> None:
    first = get_embedding_provider()
    assert get_embedding_provider() is first
    assert first.model_name.startswith("hashing-v1-")
    settings.EMBEDDING_DIMENSIONS = first.dimensions * 2
    assert get_embedding_provider().dimensions == first.dimensions * 2
    assert get_embedding_provider() is not first


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is not None,
    reason="sentence-transformers is installed; this checks the message when it is not",
)
def test_sentence_transformers_missing_package_is_a_clear_error() -> None:
    config = replace(
        EmbeddingConfig.from_settings(), provider="sentence-transformers", model="all-MiniLM-L6-v2"
    )
    with pytest.raises(
        ImproperlyConfigured, match="sentence-transformers package is not installed"
    ):
        build_embedding_provider(config)


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is None,
    reason="the optional sentence-transformers package is not installed",
)
def test_sentence_transformers_never_downloads_a_missing_model(tmp_path: object) -> None:
    config = replace(
        EmbeddingConfig.from_settings(),
        provider="sentence-transformers",
        model=f"{tmp_path}/no-such-model",
    )
    with pytest.raises(ImproperlyConfigured, match="local files"):
        build_embedding_provider(config)


def test_get_embedding_provider_follows_settings(settings: Any, server: LLMServer) -> None:
    settings.EMBEDDING_PROVIDER = "openai"
    settings.EMBEDDING_BASE_URL = server.url
    settings.EMBEDDING_MODEL = "remote-model"
    settings.EMBEDDING_DIMENSIONS = 8
    settings.EMBEDDING_API_KEY = "sk-from-settings"
    provider = get_embedding_provider()
    assert isinstance(provider, OpenAIEmbeddingProvider)
    assert provider.embed_query("hi") == LLMServer.embedding_for("hi", 8)
    assert server.requests[0].headers["authorization"] == "Bearer sk-from-settings"

    settings.EMBEDDING_PROVIDER = "nonsense"
    with pytest.raises(ImproperlyConfigured, match="EMBEDDING_PROVIDER='nonsense'"):
        get_embedding_provider()
