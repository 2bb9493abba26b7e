"""Value types the vector store service takes and returns."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.db import models

SearchMode = Literal["semantic", "keyword", "hybrid"]
SEARCH_MODES: tuple[SearchMode, ...] = ("semantic", "keyword", "hybrid")

# What names a source type: "app_label.model", a ContentType, or a model class.
SourceType = str | ContentType | type[models.Model]
# What names a source: a saved model instance, or (type, id).
Source = models.Model | tuple[SourceType, uuid.UUID | str]


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordIn:
    """One chunk to store. `embedding` is any float sequence (list, numpy array)."""

    source_type: SourceType
    source_id: uuid.UUID
    scope_id: uuid.UUID
    chunk_index: int
    content: str
    embedding: Sequence[float]
    embedding_model: str
    metadata: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result. `score` is higher-is-better; its scale depends on the mode:

    - semantic: 1 - cosine distance, in [-1, 1] (1 = same direction);
    - keyword: ts_rank_cd normalised to [0, 1) as rank / (rank + 1);
    - hybrid: reciprocal rank fusion, the sum over both lists of 1 / (60 + rank),
      at most 2/61 (first in both lists).
    """

    id: uuid.UUID
    source_type: str
    source_id: uuid.UUID
    scope_id: uuid.UUID
    chunk_index: int
    content: str
    metadata: dict[str, Any]
    score: float
    # Where the row stood in each list before fusion (1-based), and its score there;
    # None for a list that did not run or did not return it.
    semantic_rank: int | None = None
    semantic_score: float | None = None
    keyword_rank: int | None = None
    keyword_score: float | None = None


@dataclass(frozen=True, kw_only=True)
class SearchResult:
    """What a search returned and how: the embedding version it compared, the semantic
    strategy (`exact` scan or `hnsw`; None in keyword mode) and the time of each stage."""

    hits: list[SearchHit]
    mode: str
    # The query text the keyword side actually ran (after trimming), for the debugger.
    query: str = ""
    version: str
    dimensions: int
    strategy: str | None = None
    timings: dict[str, float] = field(default_factory=dict)


class WriteResult(NamedTuple):
    written: int
    deleted: int


def content_type_of(source_type: SourceType) -> ContentType:
    """Resolve any accepted spelling of a source type (ContentType lookups are cached)."""
    if isinstance(source_type, ContentType):
        return source_type
    if isinstance(source_type, str):
        app_label, _, model = source_type.lower().partition(".")
        if not model:
            raise ValueError(f"source type {source_type!r} must be 'app_label.model'")
        return ContentType.objects.get_by_natural_key(app_label, model)
    return ContentType.objects.get_for_model(source_type)


def resolve_source(source: Source) -> tuple[ContentType, uuid.UUID]:
    if isinstance(source, models.Model):
        return ContentType.objects.get_for_model(source), uuid.UUID(str(source.pk))
    source_type, source_id = source
    return content_type_of(source_type), uuid.UUID(str(source_id))


def type_label(content_type_id: int) -> str:
    content_type = ContentType.objects.get_for_id(content_type_id)
    return f"{content_type.app_label}.{content_type.model}"
