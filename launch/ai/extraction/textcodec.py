"""Decide whether bytes are text, decode them, and tidy extracted text.

Charset rule, in order: a byte-order mark (UTF-8, UTF-16, UTF-32) wins; otherwise strict
UTF-8; otherwise Windows-1252, the usual encoding of legacy Western text files (it is a
superset of the printable part of ISO-8859-1). Anything else is not treated as text.
Decoded text must not contain NUL and at most 1% other control characters: that is what
tells binary junk renamed ``.txt`` apart from a real text file.
"""

from __future__ import annotations

import codecs
import re

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v\x1b")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
_MAX_CONTROL_RATIO = 0.01


def bom_encoding(data: bytes) -> str | None:
    """The encoding announced by a byte-order mark, if any."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def decode_text(data: bytes, *, partial: bool = False) -> str | None:
    """Decode ``data`` by the charset rule above, or None when it is not text.

    ``partial`` means ``data`` is a prefix of a longer file: a multi-byte character cut
    at the end is then not an error.
    """
    bom = bom_encoding(data)
    encodings = (bom,) if bom else ("utf-8", "cp1252")
    for encoding in encodings:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        try:
            text = decoder.decode(data, final=not partial)
        except UnicodeDecodeError:
            continue
        return text if looks_like_text(text) else None
    return None


def looks_like_text(text: str) -> bool:
    """True when ``text`` has no NUL and few other control characters."""
    if "\x00" in text:
        return False
    if not text:
        return True
    controls = len(_CONTROL.findall(text))
    return controls <= len(text) * _MAX_CONTROL_RATIO


_LINE_ENDINGS = re.compile(r"\r\n?")
_JUNK = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufeff\ufffe]")
_INNER_SPACES = re.compile(r"(?<=\S)[ \t\u00a0]{2,}")
_TRAILING_SPACES = re.compile(r"[ \t\u00a0]+\n")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(text: str) -> str:
    """Normalise extracted text: newlines, control characters and runs of blank space.

    Leading indentation is kept (Markdown and code depend on it); form feeds become
    paragraph breaks, which the chunker prefers as boundaries.
    """
    text = _LINE_ENDINGS.sub("\n", text).replace("\f", "\n\n")
    text = _JUNK.sub("", text)
    text = _INNER_SPACES.sub(" ", text)
    text = _TRAILING_SPACES.sub("\n", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()
