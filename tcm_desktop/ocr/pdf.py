"""PDF pages as images, and their text layer where there is one, with pypdfium2 (PDFium, the engine in Chrome).

Why a library: PDF parsing is a security surface; PDFium is fuzzed and
maintained. Pages are rendered at 150 dpi (Chinese body text then has about
30 px per character, which the recogniser reads best), never above a pixel
budget per page so a huge page size cannot exhaust memory. A PDF made by
software (a referral letter, a lab report) carries its text: that text and its
character boxes are exact, so such a page is not OCR'd at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

RENDER_DPI = 150
MAX_PAGES = 50
MAX_PAGE_PIXELS = 12_000_000
#: a page whose text layer holds fewer visible characters is treated as a scan
MIN_TEXT_LAYER_CHARS = 4


class PdfError(ValueError):
    """A PDF that cannot be read; the message is one sentence for the user."""


@dataclass
class PdfPage:
    image: np.ndarray = field(repr=False)  # RGB uint8
    #: the text layer: (character, (x0, y0, x1, y1) in image pixels); "\n" between lines; empty for a scan
    chars: list[tuple[str, tuple[int, int, int, int]]] = field(default_factory=list)

    @property
    def has_text(self) -> bool:
        return sum(1 for c, _ in self.chars if not c.isspace()) >= MIN_TEXT_LAYER_CHARS


def _open(data: bytes):
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise PdfError(f"not a readable PDF ({exc})") from None


def read_pdf(data: bytes, dpi: int = RENDER_DPI, max_pages: int = MAX_PAGES) -> list[PdfPage]:
    """Every page (at most ``max_pages``): its rendering and its text layer."""
    doc = _open(data)
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
            image = np.asarray(page.render(scale=scale).to_pil().convert("RGB"))
            out.append(PdfPage(image, _text_layer(page, h, scale)))
            page.close()
        return out
    finally:
        doc.close()


def _text_layer(page, height_pt: float, scale: float) -> list[tuple[str, tuple[int, int, int, int]]]:
    """Characters with boxes in rendered pixels (PDF y runs upwards); a line break becomes one "\\n"."""
    textpage = page.get_textpage()
    chars: list[tuple[str, tuple[int, int, int, int]]] = []
    try:
        for i in range(textpage.count_chars()):
            ch = textpage.get_text_range(i, 1)
            if ch in ("\r", "\n"):
                if chars and chars[-1][0] != "\n":
                    chars.append(("\n", (0, 0, 0, 0)))
                continue
            if len(ch) != 1:
                continue
            left, bottom, right, top = textpage.get_charbox(i)
            chars.append((ch, (int(left * scale), int((height_pt - top) * scale),
                               int(np.ceil(right * scale)), int(np.ceil((height_pt - bottom) * scale)))))
    finally:
        textpage.close()
    while chars and chars[-1][0] == "\n":
        chars.pop()
    return chars


def render_pages(data: bytes, dpi: int = RENDER_DPI, max_pages: int = MAX_PAGES) -> list[np.ndarray]:
    """Every page as an RGB ``uint8`` array (the text layer ignored)."""
    return [p.image for p in read_pdf(data, dpi, max_pages)]


def is_pdf(path, head: bytes) -> bool:
    return head.startswith(b"%PDF") or str(path).lower().endswith(".pdf")
