"""Split extracted document text into overlapping chunks for embedding.

Sizes are in **characters**, not tokens: characters are exact, free to count and the same
for every embedding model, whereas token counts depend on a tokenizer Launch may not
have. With the defaults (``CHUNK_SIZE`` = 1000, ``CHUNK_OVERLAP`` = 150) a chunk is about
250 English tokens, well inside every common embedding model's input limit.

A chunk ends at the best boundary in the second half of its window: a paragraph break,
else a line break, else the end of a sentence, else whitespace, else a hard cut (for
text with no spaces at all). The next chunk starts up to ``overlap`` characters earlier,
moved forward to a sentence or word start, so a fact split across a boundary is whole in
at least one chunk. Chunks may run across page breaks (short PDF pages would otherwise
make tiny chunks); ``page_number`` is the page where the chunk starts and
``metadata["page_end"]`` is set when it ends on a later page.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

PAGE_SEPARATOR = "\n\n"

_SENTENCE_END = re.compile(r"[.!?\u2026\u3002\uff01\uff1f][\"'\u201d\u2019)\]]*\s")
_WHITESPACE = re.compile(r"\s")


@dataclass(frozen=True)
class Chunk:
    """One piece of a document: its position, text, starting page and extra metadata."""

    index: int
    content: str
    page_number: int | None
    metadata: dict[str, Any] = field(default_factory=dict)


def chunk_pages(
    pages: Iterable[tuple[int | None, str]],
    *,
    size: int | None = None,
    overlap: int | None = None,
) -> list[Chunk]:
    """Chunk ``(page_number, text)`` pairs (``Page`` objects qualify) in reading order.

    ``size`` and ``overlap`` default to the ``CHUNK_SIZE`` and ``CHUNK_OVERLAP`` settings.
    Never returns empty or whitespace-only chunks; blank pages contribute nothing.
    """
    size = int(settings.CHUNK_SIZE) if size is None else size
    overlap = int(settings.CHUNK_OVERLAP) if overlap is None else overlap
    if size < 1:
        raise ValueError("chunk size must be at least 1 character")
    if not 0 <= overlap < size:
        raise ValueError("chunk overlap must be at least 0 and smaller than the chunk size")

    parts: list[str] = []
    starts: list[int] = []
    numbers: list[int | None] = []
    offset = 0
    for number, text in pages:
        if not text or text.isspace():
            continue
        if parts:
            parts.append(PAGE_SEPARATOR)
            offset += len(PAGE_SEPARATOR)
        starts.append(offset)
        numbers.append(number)
        parts.append(text)
        offset += len(text)
    text = "".join(parts)

    def page_at(position: int) -> int | None:
        return numbers[bisect.bisect_right(starts, position) - 1]

    chunks: list[Chunk] = []
    for start, end in _spans(text, size, overlap):
        content = text[start:end].strip()
        if not content:
            continue
        first = start + (len(text[start:end]) - len(text[start:end].lstrip()))
        last = start + len(text[start:end].rstrip()) - 1
        metadata: dict[str, Any] = {}
        page_number, page_end = page_at(first), page_at(last)
        if page_end != page_number:
            metadata["page_end"] = page_end
        chunks.append(Chunk(len(chunks), content, page_number, metadata))
    return chunks


def chunk_text(
    text: str,
    *,
    size: int | None = None,
    overlap: int | None = None,
    page_number: int | None = None,
) -> list[Chunk]:
    """Chunk a single text; a shortcut for one-page documents."""
    return chunk_pages([(page_number, text)], size=size, overlap=overlap)


def estimate_tokens(text: str) -> int:
    """A cheap, tokenizer-free estimate of how many LLM tokens ``text`` uses.

    ASCII text counts 4 characters per token (the usual rule of thumb for English with
    BPE tokenizers); other characters count half a token each, because accented Latin,
    Cyrillic and CJK text tokenizes far less efficiently. It is meant for capacity
    bars and budget checks, where over-estimating slightly is the safe side.
    """
    if not text:
        return 0
    if text.isascii():
        return math.ceil(len(text) / 4)
    ascii_chars = len(text.encode("ascii", "ignore"))
    other = len(text) - ascii_chars
    return math.ceil(ascii_chars / 4 + other / 2)


def _spans(text: str, size: int, overlap: int) -> Iterable[tuple[int, int]]:
    """Yield ``(start, end)`` offsets of successive chunk windows over ``text``."""
    length = len(text)
    start = _skip_whitespace(text, 0)
    while start < length:
        end = start + size
        if end >= length:
            yield start, length
            return
        end = _break_before(text, start + max(1, size // 2), end)
        yield start, end
        following = _overlap_start(text, end, overlap) if overlap else end
        if following <= start:
            following = end
        start = _skip_whitespace(text, following)


def _break_before(text: str, low: int, high: int) -> int:
    """The best place to end a chunk within ``text[low:high]``; ``high`` if there is none."""
    for separator in ("\n\n", "\n"):
        found = text.rfind(separator, low, high)
        if found != -1:
            return found
    last_sentence = None
    for match in _SENTENCE_END.finditer(text, low, high):
        last_sentence = match
    if last_sentence is not None:
        return last_sentence.end() - 1
    for position in range(high - 1, low - 1, -1):
        if text[position].isspace():
            return position
    return high


def _overlap_start(text: str, end: int, overlap: int) -> int:
    """Where the next chunk starts: a sentence, else word, start in the last ``overlap`` chars."""
    low = max(0, end - overlap)
    sentence = _SENTENCE_END.search(text, low, end)
    if sentence is not None and sentence.end() < end:
        return sentence.end()
    space = _WHITESPACE.search(text, low, end)
    if space is not None and space.end() < end:
        return space.end()
    return low


def _skip_whitespace(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position
