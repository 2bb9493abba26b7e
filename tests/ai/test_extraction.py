"""Type detection, per-format extraction, hostile files and the sandboxed runner."""

from __future__ import annotations

import multiprocessing
import queue

import pytest

from launch.ai.extraction import (
    DocumentTypeMismatch,
    ExtractionError,
    Page,
    UnsupportedDocumentType,
    check_document_type,
    detect_document_type,
    extract_pages,
    extract_pages_limited,
    type_mismatch,
)
from tests.support.documents import (
    ELF_HEADER,
    make_binary_junk,
    make_docx,
    make_encrypted_pdf,
    make_pdf,
    make_zip_bomb_docx,
)

HTML = b"""<!DOCTYPE html>
<html><head><title>Pricing</title><style>body { color: red }</style>
<script>var secret = "do not index";</script></head>
<body><h1>Plans &amp; prices</h1><p>The <b>Pro</b> plan costs&nbsp;10&euro;.</p>
<ul><li>First item</li><li>Second item</li></ul>
<table><tr><td>Seats</td><td>5</td></tr></table></body></html>"""


# -- detection ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (make_pdf(["x"]), "report.pdf", "pdf"),
        (make_pdf(["x"]), "renamed.txt", "pdf"),
        (make_docx(heading="H", paragraphs=["p"]), "letter.docx", "docx"),
        (HTML, "page.html", "html"),
        (b"  \n<p>fragment</p>", "", "html"),
        (b"# Title\n\nSome *markdown*.", "notes.md", "markdown"),
        (b'<p align="center">logo</p>\n# Readme', "README.md", "markdown"),
        (b"# Title\n\nSome *markdown*.", "notes.txt", "txt"),
        ("Plain caf\u00e9 text".encode(), "a.txt", "txt"),
        ("Legacy caf\u00e9 text".encode("cp1252"), "a.txt", "txt"),
        ("UTF-16 text".encode("utf-16"), "a.txt", "txt"),
    ],
)
def test_detects_type_from_content(data: bytes, filename: str, expected: str) -> None:
    assert detect_document_type(data, filename) == expected


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (make_binary_junk(), "binary data"),
        (ELF_HEADER, "ELF executable"),
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "Windows executable"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "PNG image"),
        (b"", "empty"),
        (b"PK\x03\x04 not really a zip", "damaged ZIP"),
        (b"plain text\x00with a NUL", "binary data"),
    ],
)
def test_binary_junk_named_txt_is_unsupported(data: bytes, message: str) -> None:
    with pytest.raises(UnsupportedDocumentType, match=message):
        detect_document_type(data, "notes.txt")


def test_html_named_pdf_is_a_mismatch() -> None:
    assert type_mismatch("html", filename="invoice.pdf") == (
        "The file is named as a PDF but its content is an HTML page."
    )
    with pytest.raises(DocumentTypeMismatch, match="named as a PDF"):
        check_document_type(HTML, "invoice.pdf")


def test_executable_named_pdf_is_rejected() -> None:
    with pytest.raises(UnsupportedDocumentType, match="executable"):
        check_document_type(ELF_HEADER, "invoice.pdf")


def test_declared_type_is_checked_too() -> None:
    with pytest.raises(DocumentTypeMismatch, match="declared as a Word document"):
        check_document_type(make_pdf(["x"]), "file.bin", declared_type="docx")
    with pytest.raises(UnsupportedDocumentType, match="Unsupported document type"):
        check_document_type(b"text", "a.txt", declared_type="exe")


def test_text_formats_do_not_contradict_each_other() -> None:
    assert type_mismatch("txt", filename="page.html") is None
    assert check_document_type(b"# Heading\n\ntext", "notes.txt", declared_type="md") == "markdown"
    assert check_document_type(b"just text", "no-extension") == "txt"


# -- extraction --------------------------------------------------------------------------


def test_pdf_pages_keep_their_numbers() -> None:
    pages = extract_pages(make_pdf(["First page text", "", "Third (and last) page"]), "pdf")
    assert pages == [Page(1, "First page text"), Page(3, "Third (and last) page")]


def test_encrypted_pdf_is_a_readable_error() -> None:
    with pytest.raises(ExtractionError, match="encrypted"):
        extract_pages(make_encrypted_pdf(["secret"]), "pdf")


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n" + make_binary_junk(),
        make_pdf(["truncated document"])[:60],
        b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF",
    ],
)
def test_malformed_pdf_is_a_readable_error(data: bytes) -> None:
    with pytest.raises(ExtractionError, match="damaged"):
        extract_pages(data, "pdf")


def test_pdf_page_cap() -> None:
    data = make_pdf([f"page {i}" for i in range(5)])
    with pytest.raises(ExtractionError, match=r"too many pages \(5; the limit is 3\)"):
        extract_pages(data, "pdf", max_pages=3)
    assert len(extract_pages(data, "pdf", max_pages=5)) == 5


def test_pdf_without_text_says_so() -> None:
    with pytest.raises(ExtractionError, match="no extractable text"):
        extract_pages(make_pdf(["", ""]), "pdf")


def test_docx_keeps_headings_paragraphs_and_tables_in_order() -> None:
    data = make_docx(
        heading="Quarterly report",
        paragraphs=["Revenue grew.", "Costs fell."],
        table=[["Region", "Revenue"], ["EMEA", "12"]],
    )
    assert extract_pages(data, "docx") == [
        Page(None, "Quarterly report\nRevenue grew.\nCosts fell.\n\nRegion | Revenue\nEMEA | 12")
    ]


def test_zip_bomb_docx_is_rejected_before_parsing() -> None:
    bomb = make_zip_bomb_docx(unpacked_mb=32)
    with pytest.raises(ExtractionError, match="zip bomb"):
        extract_pages(bomb, "docx")
    with pytest.raises(ExtractionError, match="unpack to 32 MB, over the 8 MB limit"):
        extract_pages(bomb, "docx", max_unpacked_mb=8, max_compression_ratio=10**6)


def test_html_drops_scripts_and_styles_and_keeps_structure() -> None:
    [page] = extract_pages(HTML, "html")
    assert page.number is None
    assert "secret" not in page.text
    assert "color" not in page.text
    assert page.text == (
        "Pricing\n\nPlans & prices\n\nThe Pro plan costs 10\u20ac.\n\n"
        "- First item\n- Second item\n\nSeats | 5"
    )


def test_html_honours_meta_charset() -> None:
    data = '<html><meta charset="iso-8859-1"><p>Caf\u00e9</p></html>'.encode("latin-1")
    assert extract_pages(data, "html") == [Page(None, "Caf\u00e9")]


def test_text_and_markdown_decode_with_fallback() -> None:
    assert extract_pages("caf\u00e9\r\nline two".encode(), "txt") == [
        Page(None, "caf\u00e9\nline two")
    ]
    assert extract_pages("caf\u00e9 \u20ac".encode("cp1252"), "txt") == [
        Page(None, "caf\u00e9 \u20ac")
    ]
    assert extract_pages(b"# Title\n\n    code block", "markdown") == [
        Page(None, "# Title\n\n    code block")
    ]


def test_binary_text_file_is_an_extraction_error() -> None:
    with pytest.raises(ExtractionError, match="not readable text"):
        extract_pages(make_binary_junk(), "txt")


def test_unknown_type_is_rejected() -> None:
    with pytest.raises(UnsupportedDocumentType):
        extract_pages(b"x", "exe")


# -- the sandboxed runner ----------------------------------------------------------------


def test_limited_runner_returns_the_same_pages() -> None:
    data = make_pdf(["One", "Two"])
    assert extract_pages_limited(data, "pdf", timeout_s=30) == extract_pages(data, "pdf")


def test_limited_runner_passes_errors_through() -> None:
    with pytest.raises(ExtractionError, match="encrypted"):
        extract_pages_limited(make_encrypted_pdf(["x"]), "pdf", timeout_s=30)
    with pytest.raises(ExtractionError, match="too many pages"):
        extract_pages_limited(make_pdf(["a", "b"]), "pdf", timeout_s=30, max_pages=1)
    with pytest.raises(UnsupportedDocumentType):
        extract_pages_limited(b"x", "exe", timeout_s=30)


def test_limited_runner_turns_a_timeout_into_an_extraction_error() -> None:
    # No interpreter starts, reads and answers within a millisecond: the parent stops it.
    with pytest.raises(ExtractionError, match=r"exceeded the time limit \(0.001 s\)"):
        extract_pages_limited(b"text", "txt", timeout_s=0.001)


def test_limited_runner_turns_memory_exhaustion_into_an_extraction_error() -> None:
    # A text file larger than the child's address space: reading it runs out of memory.
    with pytest.raises(ExtractionError, match=r"exceeded the memory limit \(256 MB\)"):
        extract_pages_limited(b"word " * (60 * 1024 * 1024), "txt", timeout_s=60, memory_mb=256)


def _extract_in_daemon(results: multiprocessing.Queue[object], data: bytes) -> None:
    try:
        results.put(extract_pages_limited(data, "txt", timeout_s=30))
    except Exception as exc:  # report, the parent asserts
        results.put(exc)


def test_limited_runner_works_inside_a_daemonic_process() -> None:
    """Celery's prefork children are daemonic, and daemons may not use multiprocessing."""
    context = multiprocessing.get_context("fork")
    results: multiprocessing.Queue[object] = context.Queue()
    worker = context.Process(
        target=_extract_in_daemon, args=(results, b"hello worker"), daemon=True
    )
    worker.start()
    try:
        outcome = results.get(timeout=60)
    except queue.Empty:
        outcome = None
    worker.join(timeout=10)
    assert outcome == [Page(None, "hello worker")]
