"""The vector store's public API: the only code in Launch that writes or searches vectors.

Apps call these functions and never write vector SQL themselves.
"""

from launch.vector_store.services.search import search, search_traced
from launch.vector_store.services.types import (
    SEARCH_MODES,
    RecordIn,
    SearchHit,
    SearchMode,
    SearchResult,
    Source,
    WriteResult,
)
from launch.vector_store.services.writes import delete, replace_source, upsert

__all__ = [
    "SEARCH_MODES",
    "RecordIn",
    "SearchHit",
    "SearchMode",
    "SearchResult",
    "Source",
    "WriteResult",
    "delete",
    "replace_source",
    "search",
    "search_traced",
    "upsert",
]
