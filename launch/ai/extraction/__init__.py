"""Document text extraction: type detection, per-format extractors and a sandboxed runner.

Upload views call :func:`check_document_type` (415 on :class:`UnsupportedDocumentType`);
the ingestion task calls :func:`extract_pages_limited`, which runs
:func:`extract_pages` in a child process under a time and memory limit.
"""

from launch.ai.extraction.base import (
    DOCUMENT_TYPES,
    DocumentTypeMismatch,
    ExtractionError,
    Page,
    UnsupportedDocumentType,
)
from launch.ai.extraction.detect import (
    check_document_type,
    declared_document_type,
    detect_document_type,
    looks_like_html,
    type_mismatch,
)
from launch.ai.extraction.extract import extract_pages
from launch.ai.extraction.limited import extract_pages_limited

__all__ = [
    "DOCUMENT_TYPES",
    "DocumentTypeMismatch",
    "ExtractionError",
    "Page",
    "UnsupportedDocumentType",
    "check_document_type",
    "declared_document_type",
    "detect_document_type",
    "extract_pages",
    "extract_pages_limited",
    "looks_like_html",
    "type_mismatch",
]
