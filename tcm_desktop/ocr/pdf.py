"""PDF pages as images, rendered with pypdfium2 (PDFium, the engine in Chrome).

Why a library: PDF parsing is a security surface; PDFium is fuzzed and
maintained. Pages are rendered at a resolution that gives Chinese body text
about 30 px per character, which the recogniser reads best, and never above a
pixel budget per page so a huge page size cannot exhaust memory.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

RENDER_DPI = 150
MAX_PAGES = 50
MAX_PAGE_PIXELS = 12_000_000


class PdfError(ValueError):
    """A PDF that cannot be read; the message is one sentence for the user."""


def page_count(data: bytes) -> int:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise PdfError(f"not a readable PDF ({exc})") from None
    try:
        return len(doc)
    finally:
        doc.close()


def render_pages(data: bytes, dpi: int = RENDER_DPI, max_pages: int = MAX_PAGES) -> list[np.ndarray]:
    """Every page (at most ``max_pages``) as an RGB ``uint8`` array."""
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise PdfError(f"not a readable PDF ({exc})") from None
    try:
        n = len(doc)
        if n == 0:
            raise PdfError("the PDF has no pages")
        if n > max_pages:
            raise PdfError(f"the PDF has {n} pages; at most {max_pages} are read at once")
        out = []
        for i in range(n):
            page = doc[i]
            w, h = page.get_size()  # points
            scale = dpi / 72.0
            if w * h * scale * scale > MAX_PAGE_PIXELS:
                scale = (MAX_PAGE_PIXELS / (w * h)) ** 0.5
            bitmap = page.render(scale=scale)
            out.append(np.asarray(bitmap.to_pil().convert("RGB")))
            page.close()
        return out
    finally:
        doc.close()


def is_pdf(path: Path, head: bytes) -> bool:
    return head.startswith(b"%PDF") or path.suffix.lower() == ".pdf"
