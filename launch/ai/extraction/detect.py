"""Decide a document's type from its content, and compare it with what the uploader claimed.

Names lie: a renamed executable, an HTML page saved as ``.pdf``. The type therefore comes
from the bytes (magic numbers, the ZIP directory, an HTML sniff close to the WHATWG MIME
sniffing rules); the file name only settles Markdown versus plain text, which no content
test can tell apart.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePath

from launch.ai.extraction.base import (
    DOCUMENT_TYPES,
    DocumentTypeMismatch,
    UnsupportedDocumentType,
)
from launch.ai.extraction.textcodec import decode_text

_SNIFF_BYTES = 64 * 1024

_EXTENSIONS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "txt",
    ".text": "txt",
}
_ALIASES = {"md": "markdown", "text": "txt", "htm": "html", "plain": "txt"}
_TEXT_TYPES = frozenset({"txt", "markdown", "html"})

# Only signatures that cannot start a real text file: they exist to give a precise
# message ("a PNG image"); anything else binary is caught by the text test anyway.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x7fELF", "an ELF executable"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xce\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "a Mach-O or Java class file"),
    (b"\x00asm", "a WebAssembly module"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\xfd7zXZ\x00", "an xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x28\xb5\x2f\xfd", "a Zstandard archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "a legacy Microsoft Office file (.doc, .xls)"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"OggS\x00", "an Ogg media file"),
)

# Tags that start an HTML document per the WHATWG MIME sniffing standard, each followed
# by a space or ">" (or "-->" for the comment).
_HTML_START = re.compile(
    r"<(?:!doctype\s+html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p)"
    r"[\s>/]|<!--",
    re.IGNORECASE,
)


def detect_document_type(data: bytes, filename: str = "") -> str:
    """Return one of ``pdf``, ``docx``, ``html``, ``markdown``, ``txt`` from the content.

    Raises :class:`UnsupportedDocumentType` (with a message naming what the file looks
    like, when known) for executables, images, archives and binary junk.
    """
    if not data:
        raise UnsupportedDocumentType("The file is empty.")
    head = data[:_SNIFF_BYTES]
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"%PDF-"):
        return "pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_type(data)
    for signature, description in _SIGNATURES:
        if head.startswith(signature):
            raise UnsupportedDocumentType(f"The file is {description}, not a supported document.")
    if head.startswith(b"MZ") and b"\x00" in head[:64]:
        raise UnsupportedDocumentType("The file is a Windows executable, not a supported document.")
    text = decode_text(head, partial=len(data) > len(head))
    if text is None:
        raise UnsupportedDocumentType(
            "The file is binary data, not a supported document "
            "(PDF, Word .docx, HTML, Markdown or plain text)."
        )
    if _extension_type(filename) == "markdown":
        return "markdown"
    if looks_like_html(text):
        return "html"
    return "txt"


def looks_like_html(text: str) -> bool:
    """Whether text starts like an HTML document (an XML prolog before ``<html`` counts)."""
    start = text.lstrip("\ufeff \t\r\n\f")
    if start[:5].lower() == "<?xml":
        return re.search(r"<html[\s>]", start[:2048], re.IGNORECASE) is not None
    return _HTML_START.match(start) is not None


def declared_document_type(filename: str = "", declared_type: str | None = None) -> str | None:
    """The type the uploader claims: ``declared_type`` if given, else the file extension.

    Returns None when neither says anything (an unknown or missing extension).
    Raises :class:`UnsupportedDocumentType` for an unknown ``declared_type``.
    """
    if declared_type:
        normalized = declared_type.strip().lower().lstrip(".")
        normalized = _ALIASES.get(normalized, normalized)
        if normalized not in DOCUMENT_TYPES:
            raise UnsupportedDocumentType(
                f"Unsupported document type {declared_type!r}; "
                f"use one of: {', '.join(DOCUMENT_TYPES)}."
            )
        return normalized
    return _extension_type(filename)


def type_mismatch(
    detected: str, *, filename: str = "", declared_type: str | None = None
) -> str | None:
    """A message explaining why the claimed type contradicts the content, or None if it fits.

    The text formats (plain text, Markdown, HTML) are all text, so they never contradict
    each other; a binary format must match exactly.
    """
    claimed = declared_document_type(filename, declared_type)
    if claimed is None or claimed == detected:
        return None
    if claimed in _TEXT_TYPES and detected in _TEXT_TYPES:
        return None
    source = "declared as" if declared_type else "named as"
    return f"The file is {source} {_LABELS[claimed]} but its content is {_LABELS[detected]}."


def check_document_type(data: bytes, filename: str = "", declared_type: str | None = None) -> str:
    """Detect the type and check it against the claim; the upload view's one call.

    Returns the type to process the file as: the detected one, except that an explicit
    ``declared_type`` chooses how to read text (Markdown vs. plain text vs. HTML).
    Raises :class:`UnsupportedDocumentType` (or its subclass :class:`DocumentTypeMismatch`).
    """
    detected = detect_document_type(data, filename)
    message = type_mismatch(detected, filename=filename, declared_type=declared_type)
    if message:
        raise DocumentTypeMismatch(message)
    claimed = declared_document_type(filename, declared_type)
    if declared_type and claimed in _TEXT_TYPES and detected in _TEXT_TYPES:
        return claimed
    return detected


_LABELS = {
    "pdf": "a PDF",
    "docx": "a Word document",
    "html": "an HTML page",
    "markdown": "Markdown",
    "txt": "plain text",
}


def _extension_type(filename: str) -> str | None:
    return _EXTENSIONS.get(PurePath(filename).suffix.lower()) if filename else None


def _zip_type(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise UnsupportedDocumentType(
            "The file is a damaged ZIP archive (a Word document is a ZIP archive inside)."
        ) from None
    if "word/document.xml" in names:
        return "docx"
    if any(name.startswith("xl/") for name in names):
        kind = "an Excel workbook"
    elif any(name.startswith("ppt/") for name in names):
        kind = "a PowerPoint presentation"
    elif "mimetype" in names:
        kind = "an OpenDocument or EPUB file"
    else:
        kind = "a ZIP archive"
    raise UnsupportedDocumentType(f"The file is {kind}, not a supported document.")
