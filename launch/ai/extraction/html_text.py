"""HTML to plain text with the standard library's ``html.parser``.

Why the standard library rather than lxml or BeautifulSoup: it never touches the network,
has no DTD or external-entity support to abuse (character references are expanded by
``html.unescape``, which is bounded), parses iteratively so deep nesting cannot overflow
the stack, tolerates broken markup, and adds no dependency. It is slower than a C
parser, which the time limit of the extraction sandbox covers.
"""

from __future__ import annotations

import codecs
import re
from html.parser import HTMLParser

from launch.ai.extraction.base import Page
from launch.ai.extraction.textcodec import bom_encoding, decode_text

# Contents that are never readable text.
_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "math", "iframe", "object"})
_PARAGRAPH = frozenset(
    {
        "p", "div", "section", "article", "main", "header", "footer", "aside", "nav",
        "blockquote", "pre", "table", "ul", "ol", "dl", "form", "fieldset", "figure",
        "h1", "h2", "h3", "h4", "h5", "h6", "title", "address", "details", "hr",
    }
)  # fmt: skip
_LINE = frozenset({"br", "li", "tr", "dt", "dd", "figcaption", "summary", "caption", "option"})
_CELL = frozenset({"td", "th"})
_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE
)


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0
        self._pre_depth = 0
        self._cells_in_row = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip_depth += 1
        elif tag == "pre":
            self._pre_depth += 1
        self._break(tag, opening=True)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._break(tag, opening=True)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag == "pre":
            self._pre_depth = max(0, self._pre_depth - 1)
        self._break(tag, opening=False)

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if not self._pre_depth:
            data = re.sub(r"\s+", " ", data)
        self.parts.append(data)

    def _break(self, tag: str, *, opening: bool) -> None:
        if tag in _PARAGRAPH:
            self.parts.append("\n\n")
        elif tag in _LINE and opening:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")
            elif tag == "tr":
                self._cells_in_row = 0
        elif tag in _CELL and opening:
            if self._cells_in_row:
                self.parts.append(" | ")
            self._cells_in_row += 1


def decode_html(data: bytes) -> str:
    """Decode by BOM, else a ``<meta charset>`` in the first 2 KB, else the text rule."""
    bom = bom_encoding(data)
    if bom:
        return data.decode(bom, errors="replace")
    declared = _META_CHARSET.search(data[:2048])
    if declared:
        try:
            encoding = codecs.lookup(declared.group(1).decode("ascii")).name
        except (LookupError, UnicodeDecodeError):
            encoding = ""
        if encoding:
            return data.decode(encoding, errors="replace")
    text = decode_text(data)
    return text if text is not None else data.decode("utf-8", errors="replace")


def extract_html(data: bytes) -> list[Page]:
    """Readable text of an HTML page, block elements as line and paragraph breaks."""
    collector = _TextCollector()
    collector.feed(decode_html(data))
    collector.close()
    text = "".join(collector.parts)
    # Spaces collected around the breaks inserted for block elements.
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text)
    return [Page(None, text)]
