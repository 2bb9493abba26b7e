"""Extraction entry point: bytes of a known type in, pages of text out.

Runs in-process. The ingestion pipeline calls it through
:func:`launch.ai.extraction.extract_pages_limited`, which adds a time and memory limit.
"""

from __future__ import annotations

from launch.ai.extraction.base import (
    DOCUMENT_TYPES,
    ExtractionError,
    ExtractionLimits,
    Page,
    UnsupportedDocumentType,
)
from launch.ai.extraction.textcodec import clean_text, decode_text


def extract_pages(
    data: bytes,
    document_type: str,
    *,
    max_pages: int | None = None,
    max_unpacked_mb: int | None = None,
    max_compression_ratio: int | None = None,
) -> list[Page]:
    """Extract the text of a document as pages; blank pages are left out.

    Limits not given come from the settings (`ExtractionLimits`): ``DOCUMENT_MAX_PAGES``
    (PDF pages), ``DOCUMENT_MAX_UNPACKED_MB`` (total unpacked size of a .docx) and
    ``DOCUMENT_MAX_COMPRESSION_RATIO`` (per .docx part). Raises
    :class:`ExtractionError` with a message fit for the document's ``error_message``,
    including when the document has no extractable text at all.
    """
    if document_type not in DOCUMENT_TYPES:
        raise UnsupportedDocumentType(f"Unsupported document type {document_type!r}.")
    if None in (max_pages, max_unpacked_mb, max_compression_ratio):
        configured = ExtractionLimits.from_settings()
        max_pages = configured.max_pages if max_pages is None else max_pages
        max_unpacked_mb = configured.max_unpacked_mb if max_unpacked_mb is None else max_unpacked_mb
        if max_compression_ratio is None:
            max_compression_ratio = configured.max_compression_ratio
    if document_type == "pdf":
        from launch.ai.extraction.pdf import extract_pdf

        pages = extract_pdf(data, max_pages=int(max_pages))  # type: ignore[arg-type]
    elif document_type == "docx":
        from launch.ai.extraction.word import extract_docx

        pages = extract_docx(
            data,
            max_unpacked_mb=int(max_unpacked_mb),  # type: ignore[arg-type]
            max_ratio=int(max_compression_ratio),  # type: ignore[arg-type]
        )
    elif document_type == "html":
        from launch.ai.extraction.html_text import extract_html

        pages = extract_html(data)
    else:
        text = decode_text(data)
        if text is None:
            raise ExtractionError(
                "The file is not readable text: it contains binary data or an unknown encoding."
            )
        pages = [Page(None, text)]
    cleaned = [Page(page.number, clean_text(page.text)) for page in pages]
    cleaned = [page for page in cleaned if page.text]
    if not cleaned:
        hint = " (a scanned PDF needs OCR first)" if document_type == "pdf" else ""
        raise ExtractionError(f"The document contains no extractable text{hint}.")
    return cleaned
