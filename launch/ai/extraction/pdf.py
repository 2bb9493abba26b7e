"""PDF text extraction with pypdf, page by page.

pypdf is pure Python (no C parser to exploit) and maintained; it still can be made slow
or memory-hungry by a crafted file, which is why the pipeline runs this under
:func:`launch.ai.extraction.extract_pages_limited`.

Encrypted PDFs are opened only when the user password is empty (files that merely
restrict printing or copying); RC4 works out of the box, AES needs the optional
``cryptography`` package and otherwise reads as "encrypted".
"""

from __future__ import annotations

import io
import logging

from launch.ai.extraction.base import ExtractionError, Page

logger = logging.getLogger(__name__)

_DAMAGED = "The PDF is damaged or is not a valid PDF, so its text could not be read."


def extract_pdf(data: bytes, *, max_pages: int) -> list[Page]:
    from pypdf import PasswordType, PdfReader

    # pypdf reports every repaired defect as a warning; they mean nothing to users.
    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
    except Exception as exc:  # pypdf raises many types for broken files
        raise ExtractionError(_DAMAGED) from exc
    if encrypted:
        try:
            opened = reader.decrypt("") != PasswordType.NOT_DECRYPTED
        except Exception:  # DependencyError for AES without `cryptography`, or damage
            opened = False
        if not opened:
            raise ExtractionError(
                "The PDF is encrypted (password-protected). Upload a copy without a password."
            )
    try:
        count = len(reader.pages)
    except Exception as exc:
        raise ExtractionError(_DAMAGED) from exc
    if count > max_pages:
        raise ExtractionError(f"The PDF has too many pages ({count}; the limit is {max_pages}).")
    pages: list[Page] = []
    failures = 0
    for number in range(1, count + 1):
        try:
            text = reader.pages[number - 1].extract_text() or ""
        except Exception:
            # One broken page should not cost the user the rest of the document.
            logger.info("Skipping unreadable PDF page %d", number)
            failures += 1
            continue
        pages.append(Page(number, text))
    if failures and failures == count:
        raise ExtractionError(_DAMAGED)
    return pages
