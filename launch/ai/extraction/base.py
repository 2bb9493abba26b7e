"""Shared types of the extraction package: pages and the errors users get to read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

DOCUMENT_TYPES = ("pdf", "docx", "html", "markdown", "txt")


class Page(NamedTuple):
    """Text of one page. ``number`` is 1-based, or None for formats without pages.

    A NamedTuple so it can be passed straight to :func:`launch.ai.chunking.chunk_pages`,
    which takes ``(page_number, text)`` pairs.
    """

    number: int | None
    text: str


@dataclass(frozen=True)
class ExtractionLimits:
    """What reading one document may cost: the `DOCUMENT_*` settings (defaults in
    config/settings). Built in the worker; the sandboxed child, which never configures
    Django, gets them on its command line."""

    max_pages: int
    max_unpacked_mb: int
    max_compression_ratio: int
    timeout_s: float
    memory_mb: int

    @classmethod
    def from_settings(cls) -> ExtractionLimits:
        from django.conf import settings

        return cls(
            max_pages=int(settings.DOCUMENT_MAX_PAGES),
            max_unpacked_mb=int(settings.DOCUMENT_MAX_UNPACKED_MB),
            max_compression_ratio=int(settings.DOCUMENT_MAX_COMPRESSION_RATIO),
            timeout_s=float(settings.DOCUMENT_PARSE_TIMEOUT),
            memory_mb=int(settings.DOCUMENT_PARSE_MEMORY_MB),
        )


class ExtractionError(Exception):
    """Text could not be extracted. The message is written for the document's owner.

    It is stored as the document's ``error_message``, so it says what is wrong with the
    file in plain words and never carries a stack trace or internal paths.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedDocumentType(ExtractionError):
    """The content is not a supported document type (upload answers 415)."""


class DocumentTypeMismatch(UnsupportedDocumentType):
    """The file's name or declared type disagrees with its content (upload answers 415)."""
