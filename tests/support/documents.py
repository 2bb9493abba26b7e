"""Small real documents built in memory, including hostile ones, for extraction tests.

Everything is generated, nothing is downloaded or committed as a binary fixture, so each
test shows exactly what its file contains.
"""

from __future__ import annotations

import io
import random
import zipfile


def make_pdf(pages: list[str]) -> bytes:
    """A valid PDF with one line of Helvetica text per page (hand-built, no writer library)."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    page_ids = [4 + 2 * i for i in range(len(pages))]
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    for pid, text in zip(page_ids, pages, strict=True):
        stream = f"BT /F1 12 Tf 72 720 Td ({escape(text)}) Tj ET".encode("latin-1")
        objects[pid] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (pid + 1)
        )
        objects[pid + 1] = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream)
    out = bytearray(b"%PDF-1.4\n")
    offsets: dict[int, int] = {}
    for oid in sorted(objects):
        offsets[oid] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (oid, objects[oid])
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offsets[oid] for oid in sorted(objects))
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def make_encrypted_pdf(pages: list[str], password: str = "s3cret") -> bytes:  # noqa: S107
    """A PDF that needs a user password (RC4, so no optional crypto package is involved)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(make_pdf(pages))).pages:
        writer.add_page(page)
    writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_docx(
    *, heading: str, paragraphs: list[str], table: list[list[str]] | None = None
) -> bytes:
    """A real Word document made with python-docx."""
    import docx

    document = docx.Document()
    document.add_heading(heading, level=1)
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_zip_bomb_docx(unpacked_mb: int = 64) -> bytes:
    """A valid .docx plus one highly compressible part that unpacks to ``unpacked_mb`` MB."""
    source = zipfile.ZipFile(io.BytesIO(make_docx(heading="Bomb", paragraphs=["tick"])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bomb:
        for entry in source.infolist():
            bomb.writestr(entry, source.read(entry.filename))
        bomb.writestr("word/media/padding.bin", b"\0" * (unpacked_mb * 1024 * 1024))
    return buffer.getvalue()


def make_binary_junk(size: int = 4096, seed: int = 0) -> bytes:
    """Random bytes (deterministic), the kind of thing users rename to ``.txt``."""
    return random.Random(seed).randbytes(size)


ELF_HEADER = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
