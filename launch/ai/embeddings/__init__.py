"""Embedding providers behind one interface, chosen by settings.

Settings (all optional; read with defaults so they work before the settings file names
them):

- ``EMBEDDING_PROVIDER``: ``"hashing"`` (default, offline, lexical), ``"openai"`` (any
  OpenAI-compatible ``/v1/embeddings``), ``"onnx"`` (a local sentence-embedding model
  on ONNX Runtime, no PyTorch) or ``"sentence-transformers"`` (local, needs PyTorch).
- ``EMBEDDING_MODEL``: the remote model name, or a local model directory.
- ``EMBEDDING_DIMENSIONS``: vector length, default 384; must match the vector column.
- ``EMBEDDING_BASE_URL``, ``EMBEDDING_API_KEY``: the OpenAI-compatible endpoint.
- ``EMBEDDING_TIMEOUT`` (seconds, default 30), ``EMBEDDING_BATCH_SIZE`` (default 64),
  ``EMBEDDING_MAX_RETRIES`` (retries after the first attempt, default 3),
  ``EMBEDDING_SEND_DIMENSIONS`` (send ``dimensions`` in requests, default False).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured

from launch.ai.cache import PerConfiguration
from launch.ai.embeddings.base import (
    EmbeddingConfigurationError,
    EmbeddingDimensionError,
    EmbeddingError,
    EmbeddingProvider,
    EmbeddingRateLimited,
    EmbeddingResponseError,
    EmbeddingServiceError,
    EmbeddingTimeout,
    EmbeddingUnavailable,
    Vector,
)
from launch.ai.embeddings.hashing import HashingEmbeddingProvider
from launch.ai.embeddings.openai_compat import OpenAIEmbeddingProvider
from launch.config import SettingsConfig

__all__ = [
    "EmbeddingConfig",
    "EmbeddingConfigurationError",
    "EmbeddingDimensionError",
    "EmbeddingError",
    "EmbeddingProvider",
    "EmbeddingRateLimited",
    "EmbeddingResponseError",
    "EmbeddingServiceError",
    "EmbeddingTimeout",
    "EmbeddingUnavailable",
    "HashingEmbeddingProvider",
    "OpenAIEmbeddingProvider",
    "Vector",
    "build_embedding_provider",
    "get_embedding_provider",
    "get_provider_for",
]

PROVIDERS = ("hashing", "openai", "onnx", "sentence-transformers")


@dataclass(frozen=True)
class EmbeddingConfig(SettingsConfig):
    """Everything that selects and configures a provider; hashable, so it keys the cache."""

    PREFIX = "EMBEDDING_"

    provider: str
    model: str
    dimensions: int
    base_url: str
    api_key: str = field(repr=False)
    timeout: float
    batch_size: int
    max_retries: int
    send_dimensions: bool


def build_embedding_provider(config: EmbeddingConfig) -> EmbeddingProvider:
    """Create a new provider for ``config``; raises ImproperlyConfigured naming the setting."""
    name = config.provider.strip().lower().replace("_", "-")
    if name == "hashing":
        return HashingEmbeddingProvider(config.dimensions)
    if name == "openai":
        if not config.base_url:
            raise ImproperlyConfigured(
                "EMBEDDING_BASE_URL is required when EMBEDDING_PROVIDER='openai'"
            )
        if not config.model:
            raise ImproperlyConfigured(
                "EMBEDDING_MODEL is required when EMBEDDING_PROVIDER='openai'"
            )
        return OpenAIEmbeddingProvider(
            base_url=config.base_url,
            model=config.model,
            dimensions=config.dimensions,
            api_key=config.api_key or None,
            timeout=config.timeout,
            batch_size=config.batch_size,
            max_retries=config.max_retries,
            send_dimensions=config.send_dimensions,
        )
    if name == "onnx":
        from launch.ai.embeddings.onnx import OnnxEmbeddingProvider

        try:
            return OnnxEmbeddingProvider(
                model=config.model,
                dimensions=config.dimensions or None,  # 0: whatever the model produces
                batch_size=config.batch_size,
            )
        except EmbeddingConfigurationError as exc:
            raise ImproperlyConfigured(str(exc)) from exc
    if name == "sentence-transformers":
        from launch.ai.embeddings.sentence_transformer import SentenceTransformersProvider

        try:
            return SentenceTransformersProvider(
                model=config.model, dimensions=config.dimensions, batch_size=config.batch_size
            )
        except EmbeddingConfigurationError as exc:
            raise ImproperlyConfigured(str(exc)) from exc
    raise ImproperlyConfigured(
        f"EMBEDDING_PROVIDER={config.provider!r} is not supported; "
        f"choose one of {', '.join(PROVIDERS)}"
    )


_cache: PerConfiguration[EmbeddingConfig, EmbeddingProvider] = PerConfiguration(
    build_embedding_provider
)


def get_embedding_provider() -> EmbeddingProvider:
    """The process-wide provider for the current settings.

    Cached per configuration: changing the settings (``override_settings`` in tests)
    yields a provider for the new values without an explicit reset.
    """
    return _cache.get(EmbeddingConfig.from_settings())


_versions_lock = threading.Lock()
_versions: dict[EmbeddingConfig, EmbeddingProvider] = {}
# A rollout alternates between two models and a replay may name a third; more than this
# many distinct configurations in one process means something churns, so start over.
_VERSIONS_MAX = 4


def get_provider_for(config: EmbeddingConfig) -> EmbeddingProvider:
    """A provider for an explicit configuration (an embedding version's), cached per
    configuration so the old and the new model of a rollout each load once."""
    if config == EmbeddingConfig.from_settings():
        return get_embedding_provider()
    with _versions_lock:
        provider = _versions.get(config)
        if provider is None:
            if len(_versions) >= _VERSIONS_MAX:
                _close_all(_versions)
            provider = _versions[config] = build_embedding_provider(config)
        return provider


def _close_all(providers: dict[EmbeddingConfig, EmbeddingProvider]) -> None:
    for provider in providers.values():
        close = getattr(provider, "close", None)
        if callable(close):
            close()
    providers.clear()
