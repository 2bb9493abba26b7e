"""Word (.docx) text extraction with python-docx, behind a zip-bomb check.

A .docx is a ZIP archive, and a few hundred kilobytes can declare gigabytes of XML. The
archive's directory is checked *before* python-docx opens it: total declared size,
per-entry compression ratio and entry count. The declared sizes can be trusted because
Python's zipfile stops reading at the declared size and then fails the CRC check.
python-docx parses XML with entity resolution off, so "billion laughs" payloads stay inert.
"""

from __future__ import annotations

import io
import zipfile
from typing import TYPE_CHECKING

from launch.ai.extraction.base import ExtractionError, Page

if TYPE_CHECKING:
    from docx.table import Table

_MAX_ENTRIES = 10_000
# Ratios are only checked on entries big enough to matter: tiny XML parts compress
# extremely well and are harmless.
_RATIO_CHECK_BYTES = 1024 * 1024


def check_zip_limits(data: bytes, *, max_unpacked_mb: int, max_ratio: int) -> None:
    """Reject a ZIP whose declared contents are too big, too compressed or too many."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise ExtractionError(
            "The Word document is damaged (its ZIP container is invalid)."
        ) from exc
    if len(entries) > _MAX_ENTRIES:
        raise ExtractionError(
            f"The Word document contains too many parts ({len(entries)}); it was rejected."
        )
    total = sum(entry.file_size for entry in entries)
    if total > max_unpacked_mb * 1024 * 1024:
        raise ExtractionError(
            f"The Word document would unpack to {total // (1024 * 1024)} MB, over the "
            f"{max_unpacked_mb} MB limit; it was rejected as a possible zip bomb."
        )
    for entry in entries:
        if entry.file_size < _RATIO_CHECK_BYTES:
            continue
        ratio = entry.file_size / max(entry.compress_size, 1)
        if ratio > max_ratio:
            raise ExtractionError(
                f"The Word document is compressed {ratio:.0f} to 1 (the limit is {max_ratio}); "
                "it was rejected as a possible zip bomb."
            )


def extract_docx(data: bytes, *, max_unpacked_mb: int, max_ratio: int) -> list[Page]:
    """The body text in reading order: paragraphs, headings and tables. One page, unnumbered.

    Word files have no stable page numbers (pagination happens when rendering), so the
    single page has ``number=None``. Headings start a new paragraph block so the chunker
    prefers to cut before them.
    """
    check_zip_limits(data, max_unpacked_mb=max_unpacked_mb, max_ratio=max_ratio)
    import docx
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
        blocks: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Paragraph):
                text = block.text.strip()
                if not text:
                    continue
                style = block.style.name if block.style is not None else ""
                if style and (style.startswith("Heading") or style == "Title"):
                    blocks.append("\n" + text)
                else:
                    blocks.append(text)
            else:
                blocks.append("\n" + _table_text(block) + "\n")
    except ExtractionError:
        raise
    except Exception as exc:  # python-docx/lxml raise many types for broken parts
        raise ExtractionError(
            "The Word document is damaged or not a valid .docx file, so its text could not be read."
        ) from exc
    return [Page(None, "\n".join(blocks))]


def _table_text(table: Table) -> str:
    lines = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            # Merged cells are reported once per grid column; keep one copy.
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            lines.append(" | ".join(cells))
    return "\n".join(lines)
