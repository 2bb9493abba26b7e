"""The embedding provider interface and the errors every provider raises.

Vectors are plain ``list[float]``: pgvector's Django integration and psycopg accept them
directly, JSON can carry them to and from HTTP services, and no provider needs numpy
just to hand a vector over. A provider that computes with numpy converts at the edge.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

Vector = list[float]


@runtime_checkable
class EmbeddingProvider(Protocol):
    """Turns text into fixed-size vectors for the vector store.

    ``model_name`` is stored with every vector so a search never compares vectors of
    different models; ``dimensions`` is the length of every returned vector.
    Implementations must be safe to share between threads: one instance is cached per
    process by :func:`launch.ai.embeddings.get_embedding_provider`.
    """

    model_name: str
    dimensions: int

    def embed_documents(self, texts: Sequence[str]) -> list[Vector]:
        """Embed passages to be stored, in the order given."""
        ...

    def embed_query(self, text: str) -> Vector:
        """Embed a search query (some models treat queries and passages differently)."""
        ...


class EmbeddingError(Exception):
    """Base class for every embedding failure."""


class EmbeddingConfigurationError(EmbeddingError):
    """The provider cannot work as configured (missing package, model not found locally)."""


class EmbeddingServiceError(EmbeddingError):
    """A remote embedding service failed and the provider gave up.

    ``status_code`` is the last HTTP status seen (None for network errors) and
    ``attempts`` how many requests were made. Subclasses say why, so callers can decide
    whether to retry later (rate limited, timeout, unavailable) or fail for good.
    """

    def __init__(self, message: str, *, status_code: int | None = None, attempts: int = 1):
        super().__init__(message)
        self.status_code = status_code
        self.attempts = attempts


class EmbeddingRateLimited(EmbeddingServiceError):
    """The service kept answering 429 Too Many Requests."""


class EmbeddingTimeout(EmbeddingServiceError):
    """The service did not answer within the timeout."""


class EmbeddingUnavailable(EmbeddingServiceError):
    """The service kept failing with 5xx or could not be reached at all."""


class EmbeddingResponseError(EmbeddingServiceError):
    """The service answered, but not with something usable (4xx, malformed body)."""


class EmbeddingDimensionError(EmbeddingResponseError):
    """The service returned vectors of a different length than configured."""
