"""Semantic, keyword and hybrid search over the vector store, in one SQL statement each.

The semantic side picks its strategy by how many rows the requested scopes hold:

- small scopes (<= VECTOR_EXACT_SCAN_MAX_ROWS rows): an exact scan. The scope's rows
  come from the b-tree index and are ranked by true distance, recall 1.0. HNSW filters
  after walking the graph, so a scope holding 1% of the table would starve it.
- large scopes and unscoped searches: the HNSW index with pgvector's iterative scan,
  which keeps walking the graph until `k` rows pass the filter (or
  `hnsw.max_scan_tuples` is reached), with `hnsw.ef_search` raised for recall.

Tunables (`SearchTuning`, from the Django settings):
VECTOR_EXACT_SCAN_MAX_ROWS, VECTOR_HNSW_EF_SEARCH, VECTOR_HNSW_MAX_SCAN_TUPLES,
VECTOR_HYBRID_CANDIDATES, VECTOR_KEYWORD_MATCH_CAP, VECTOR_KEYWORD_MAX_TERMS.

The keyword side never sees the raw text: `query.bounded_keyword_text` keeps its first
VECTOR_KEYWORD_MAX_TERMS distinct words, so a long message cannot become a huge tsquery.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections, router, transaction

from launch.ai.chunking import estimate_tokens
from launch.ai.metering import metered
from launch.config import SettingsConfig
from launch.metrics import observe_search
from launch.vector_store.models import EmbeddingVersion, VectorRecord
from launch.vector_store.services.query import bounded_keyword_text
from launch.vector_store.services.types import (
    SEARCH_MODES,
    SearchHit,
    SearchMode,
    SearchResult,
    type_label,
)
from launch.vector_store.services.versions import (
    provider_for,
    vector_type,
    version_for_scopes,
    version_named,
)

# SQL is assembled only from the constant fragments below, `_where`'s constant clauses
# and two integers (the version's id and dimension, which must be literals: the planner
# matches a partial index's predicate and expression only against constants); every
# other value travels as a query parameter. The text-search configuration 'english'
# must equal models.SEARCH_CONFIG, or the GIN index cannot serve the query.


@dataclass(frozen=True)
class SearchTuning(SettingsConfig):
    """The search tunables: the `VECTOR_*` settings (defaults, and the measurements
    behind them, in config/settings), read once per search."""

    PREFIX = "VECTOR_"

    exact_scan_max_rows: int
    hnsw_ef_search: int
    hnsw_max_scan_tuples: int
    hybrid_candidates: int
    keyword_match_cap: int
    keyword_max_terms: int


# Exact: the MATERIALIZED fence keeps the planner from answering the ORDER BY with the
# HNSW index, so every row of the scope is ranked by its true distance.
_SEMANTIC_EXACT = """
sem_raw AS MATERIALIZED (
    SELECT r.id, (r.embedding::{vec}) <=> %(vector)s::{vec} AS distance
    FROM vector_store_vectorrecord r WHERE {where}
)"""
# HNSW: relaxed_order may return rows slightly out of order; `sem` re-sorts them.
_SEMANTIC_HNSW = """
sem_raw AS MATERIALIZED (
    SELECT r.id, (r.embedding::{vec}) <=> %(vector)s::{vec} AS distance
    FROM vector_store_vectorrecord r WHERE {where}
    ORDER BY distance LIMIT %(candidates)s
)"""
_SEMANTIC_RANKED = """
sem AS (
    SELECT id, distance, row_number() OVER (ORDER BY distance, id) AS rank
    FROM (SELECT id, distance FROM sem_raw ORDER BY distance, id LIMIT %(candidates)s) top
)"""
# The match cap bounds the ranking work for very common words: ts_rank_cd reads every
# matching row's tsvector, so without it a word in 75k rows ranks 75k rows.
_KEYWORD = """
kw_raw AS MATERIALIZED (
    SELECT r.id, r.search_vector FROM vector_store_vectorrecord r
    WHERE r.search_vector @@ websearch_to_tsquery('english', %(text)s) AND {where}
    LIMIT %(match_cap)s
),
kw AS (
    SELECT id, score, row_number() OVER (ORDER BY score DESC, id) AS rank
    FROM (
        SELECT id,
               ts_rank_cd(search_vector, websearch_to_tsquery('english', %(text)s), 32)::float8
                   AS score
        FROM kw_raw ORDER BY score DESC, id LIMIT %(candidates)s
    ) top
)"""
# Every mode answers the same columns; the per-list ranks and scores are what the RAG
# debugger shows ("why was this chunk chosen").
_FINAL = {
    "semantic": """
SELECT r.id, r.source_type_id, r.source_id, r.scope_id, r.chunk_index, r.content,
       r.metadata, 1 - s.distance AS score, s.rank, 1 - s.distance, NULL::bigint, NULL::float8
FROM sem s JOIN vector_store_vectorrecord r ON r.id = s.id
ORDER BY s.rank LIMIT %(k)s""",
    "keyword": """
SELECT r.id, r.source_type_id, r.source_id, r.scope_id, r.chunk_index, r.content,
       r.metadata, w.score, NULL::bigint, NULL::float8, w.rank, w.score
FROM kw w JOIN vector_store_vectorrecord r ON r.id = w.id
ORDER BY w.rank LIMIT %(k)s""",
    "hybrid": """
, fused AS (
    SELECT id, sum(1.0::float8 / (60 + rank)) AS score
    FROM (SELECT id, rank FROM sem UNION ALL SELECT id, rank FROM kw) ranks
    GROUP BY id
)
SELECT r.id, r.source_type_id, r.source_id, r.scope_id, r.chunk_index, r.content,
       r.metadata, f.score, s.rank, 1 - s.distance, w.rank, w.score,
       (SELECT count(*) FROM sem) AS semantic_found
FROM fused f JOIN vector_store_vectorrecord r ON r.id = f.id
LEFT JOIN sem s ON s.id = f.id LEFT JOIN kw w ON w.id = f.id
ORDER BY f.score DESC, r.id LIMIT %(k)s""",
}
_SCOPE_ROWS = """
SELECT count(*) FROM (
    SELECT 1 FROM vector_store_vectorrecord r WHERE {where} LIMIT %(probe)s
) probe"""
_HNSW_SETTINGS = """
SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),
       set_config('hnsw.ef_search', %(ef_search)s, true),
       set_config('hnsw.max_scan_tuples', %(max_scan_tuples)s, true)"""


def _where(version_id: int, scopes: list[uuid.UUID] | None, metadata: list[str] | None) -> str:
    clauses = [f"r.version_id = {int(version_id)}"]
    if scopes is not None:
        clauses.append("r.scope_id = ANY(%(scopes)s)")
    if metadata:
        clauses.append("r.metadata @> ANY(%(metadata)s::jsonb[])")
    return " AND ".join(clauses)


def _metadata_params(
    metadata: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
) -> list[str] | None:
    if metadata is None:
        return None
    filters = [metadata] if isinstance(metadata, Mapping) else list(metadata)
    return [json.dumps(dict(item)) for item in filters] or None


def _vector_literal(embedding: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(value)) for value in embedding) + "]"


def search(
    query: str | None = None,
    *,
    query_embedding: Sequence[float] | None = None,
    scopes: Sequence[uuid.UUID] | None,
    k: int = 10,
    mode: SearchMode = "hybrid",
    embedding_model: str | None = None,
    metadata: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
) -> list[SearchHit]:
    """The `k` best chunks for a query, best first (see `SearchHit` for the scores).

    `scopes=None` searches every scope (internal and admin use only); an empty
    `scopes` returns [] without touching the database. Only rows of one embedding
    version are considered, in every mode: `embedding_model` names it, else it is the
    version the scopes search (`versions.version_for_scopes`). `metadata` keeps rows
    whose metadata contains the mapping (or any of several). Without `query_embedding`,
    the query text is embedded with that version's provider.
    """
    return search_traced(
        query,
        query_embedding=query_embedding,
        scopes=scopes,
        k=k,
        mode=mode,
        embedding_model=embedding_model,
        metadata=metadata,
    ).hits


def search_traced(
    query: str | None = None,
    *,
    query_embedding: Sequence[float] | None = None,
    scopes: Sequence[uuid.UUID] | None,
    k: int = 10,
    mode: SearchMode = "hybrid",
    embedding_model: str | None = None,
    metadata: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
) -> SearchResult:
    """`search`, with what it did: the version, the semantic strategy and the timings."""
    if mode not in SEARCH_MODES:
        raise ValueError(f"mode must be one of {', '.join(SEARCH_MODES)}, not {mode!r}")
    if k < 1:
        raise ValueError("k must be at least 1")
    scope_list = None if scopes is None else list(dict.fromkeys(scopes))
    text = (query or "").strip()
    if scope_list is not None and not scope_list:
        return SearchResult(hits=[], mode=mode, query=text, version="", dimensions=0, strategy=None)
    if mode != "semantic" and not text:
        raise ValueError(f"{mode} search needs a query text")
    if mode != "keyword" and query_embedding is None and not text:
        raise ValueError("semantic search needs a query text or a query_embedding")
    version = _search_version(scope_list, embedding_model)
    if version is None:  # nothing was ever stored (with that model)
        return SearchResult(
            hits=[], mode=mode, query=text, version=embedding_model or "", dimensions=0
        )
    timings: dict[str, float] = {}
    if mode != "keyword" and query_embedding is None:
        started = time.perf_counter()
        query_embedding = _embed_query(version, text)
        timings["embed_ms"] = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    tuning = SearchTuning.from_settings()
    metadata_params = _metadata_params(metadata)
    where = _where(version.pk, scope_list, metadata_params)
    params: dict[str, Any] = {
        "scopes": scope_list,
        "metadata": metadata_params,
        "text": bounded_keyword_text(text, max_terms=tuning.keyword_max_terms),
        "k": k,
        "candidates": k if mode != "hybrid" else max(k, tuning.hybrid_candidates),
        "match_cap": tuning.keyword_match_cap,
    }
    strategy: str | None = None
    # Raw SQL bypasses the router; ask it, so search inside `replica_reads()` reads a
    # replica when one is configured (launch/replicas.py). Otherwise this is "default".
    alias = router.db_for_read(VectorRecord)
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        ctes = []
        if mode != "keyword":
            assert query_embedding is not None
            if len(query_embedding) != version.dimensions:
                raise ValueError(
                    f"the query embedding has {len(query_embedding)} dimensions, the "
                    f"version {version.name!r} holds {version.dimensions}"
                )
            params["vector"] = _vector_literal(query_embedding)
            vec = f"{vector_type(version.dimensions)}({int(version.dimensions)})"
            strategy = (
                "exact"
                if _use_exact_scan(cursor, where, params, tuning.exact_scan_max_rows)
                else "hnsw"
            )
            semantic = _SEMANTIC_EXACT
            if strategy == "hnsw":
                # SET LOCAL semantics: these last until the end of the transaction.
                cursor.execute(
                    _HNSW_SETTINGS,
                    {
                        "ef_search": str(tuning.hnsw_ef_search),
                        "max_scan_tuples": str(tuning.hnsw_max_scan_tuples),
                    },
                )
                semantic = _SEMANTIC_HNSW
            ctes += [semantic.format(where=where, vec=vec), _SEMANTIC_RANKED]
        if mode != "semantic":
            ctes.append(_KEYWORD.format(where=where))
        rows = _run(cursor, ctes, mode, params)
        if strategy == "hnsw" and _semantic_found(mode, rows) < params["candidates"]:
            # The walk came back short: entries of deleted rows that vacuum has not yet
            # removed count against `hnsw.max_scan_tuples`, so a scope among many deleted
            # rows could come back short or empty. The exact scan ranks the scope instead
            # (a second statement: a plan holding a full scan is costed, and JIT-compiled,
            # as if it ran, even in a branch that never does).
            ctes[0] = _SEMANTIC_EXACT.format(where=where, vec=vec)
            rows = _run(cursor, ctes, mode, params)
            strategy = "exact-fallback"
    timings["query_ms"] = (time.perf_counter() - started) * 1000
    observe_search(
        mode=mode,
        strategy=strategy,
        seconds=(timings["query_ms"] + timings.get("embed_ms", 0.0)) / 1000,
    )
    return SearchResult(
        hits=[_hit(row) for row in rows],
        mode=mode,
        # What ran: the keyword side's bounded text; semantic mode embeds the text whole.
        query=params["text"] if mode != "semantic" else text,
        version=version.name,
        dimensions=version.dimensions,
        strategy=strategy,
        timings=timings,
    )


def _embed_query(version: EmbeddingVersion, text: str) -> Sequence[float]:
    """The query's embedding by the version's provider, booked in the usage ledger."""
    provider = provider_for(version)
    with metered("query_embedding", provider, input_estimate=estimate_tokens(text)):
        return provider.embed_query(text)


def _search_version(
    scopes: list[uuid.UUID] | None, embedding_model: str | None
) -> EmbeddingVersion | None:
    """The version named, else the one the scopes search; None when there is none."""
    if embedding_model is None:
        return version_for_scopes(scopes)
    return version_named(embedding_model)


def _run(
    cursor: Any, ctes: list[str], mode: SearchMode, params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    cursor.execute("WITH " + ",".join(ctes) + _FINAL[mode], params)
    return list(cursor.fetchall())


def _semantic_found(mode: SearchMode, rows: list[tuple[Any, ...]]) -> int:
    """How many candidates the semantic side found: semantic mode's rows (it asks for k),
    or the count hybrid's rows carry. Fewer than asked for after an HNSW walk means the
    walk stopped short, or the filtered scope is that small: the exact scan is right
    either way."""
    if mode == "semantic":
        return len(rows)
    return int(rows[0][12]) if rows else 0


def _use_exact_scan(cursor: Any, where: str, params: dict[str, Any], threshold: int) -> bool:
    """True when the rows to search are few enough to rank them all.

    The count stops at the threshold, so the probe costs at most that many index
    entries however large the scope is.
    """
    sql = _SCOPE_ROWS.format(where=where)
    cursor.execute(sql, {**params, "probe": threshold + 1})
    (rows,) = cursor.fetchone()
    return bool(rows <= threshold)


def _hit(row: tuple[Any, ...]) -> SearchHit:
    id_, type_id, source_id, scope_id, chunk_index, content, metadata, score = row[:8]
    # Hybrid rows carry the semantic side's count after these (see _semantic_found).
    semantic_rank, semantic_score, keyword_rank, keyword_score = row[8:12]
    return SearchHit(
        id=id_,
        source_type=type_label(type_id),
        source_id=source_id,
        scope_id=scope_id,
        chunk_index=chunk_index,
        content=content,
        # Django loads jsonb as text and lets JSONField parse it; raw SQL parses here.
        metadata=json.loads(metadata) if isinstance(metadata, str) else metadata,
        score=float(score),
        semantic_rank=semantic_rank,
        semantic_score=None if semantic_score is None else float(semantic_score),
        keyword_rank=keyword_rank,
        keyword_score=None if keyword_score is None else float(keyword_score),
    )
