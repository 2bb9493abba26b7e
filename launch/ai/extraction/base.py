"""Shared types of the extraction package: pages and the errors users get to read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from launch.config import SettingsConfig

DOCUMENT_TYPES = ("pdf", "docx", "html", "markdown", "txt")


class Page(NamedTuple):
    """Text of one page. ``number`` is 1-based, or None for formats without pages.

    A NamedTuple so it can be passed straight to :func:`launch.ai.chunking.chunk_pages`,
    which takes ``(page_number, text)`` pairs.
    """

    number: int | None
    text: str


@dataclass(frozen=True)
class ExtractionLimits(SettingsConfig):
    """What reading one document may cost: the `DOCUMENT_*` settings (defaults in
    config/settings). Built in the worker; the sandboxed child, which never configures
    Django, gets them on its command line."""

    PREFIX = "DOCUMENT_"

    max_pages: int
    max_unpacked_mb: int
    max_compression_ratio: int
    parse_timeout: float
    parse_memory_mb: int


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
