"""Deterministic 384-d vectors and records for the vector store tests."""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable, Sequence

import pytest
from django.conf import settings

from launch.vector_store.services import RecordIn

MODEL = "test-model"
SOURCE_TYPE = "users.user"  # any content type will do: the store keeps only (type, id)


def unit_vector(seed: int) -> list[float]:
    rng = random.Random(seed)
    values = [rng.gauss(0.0, 1.0) for _ in range(settings.EMBEDDING_DIMENSIONS)]
    norm = math.sqrt(sum(v * v for v in values))
    return [v / norm for v in values]


def near(vector: Sequence[float], seed: int, noise: float) -> list[float]:
    """A vector close to `vector`: the smaller `noise`, the closer."""
    jitter = unit_vector(seed)
    mixed = [v + noise * j for v, j in zip(vector, jitter, strict=True)]
    norm = math.sqrt(sum(v * v for v in mixed))
    return [v / norm for v in mixed]


def cosine_similarity(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


MakeRecord = Callable[..., RecordIn]


@pytest.fixture
def make_record() -> MakeRecord:
    def make(
        *,
        scope_id: uuid.UUID,
        source_id: uuid.UUID | None = None,
        chunk_index: int = 0,
        content: str = "plain words",
        embedding: Sequence[float] | None = None,
        seed: int = 0,
        model: str = MODEL,
        metadata: dict[str, object] | None = None,
    ) -> RecordIn:
        return RecordIn(
            source_type=SOURCE_TYPE,
            source_id=source_id or uuid.uuid4(),
            scope_id=scope_id,
            chunk_index=chunk_index,
            content=content,
            embedding=embedding if embedding is not None else unit_vector(seed),
            embedding_model=model,
            metadata=metadata or {},
        )

    return make
