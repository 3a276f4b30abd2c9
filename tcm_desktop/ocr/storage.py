"""A read document as storable pages, and back: the page images and their layout (lines, character boxes).

Why: the page a record was read from is part of its documentation, and after
re-opening the record the doctor should still see where each entity sits on
the page. Each page is stored as the *deskewed* image the boxes refer to, with
its recognised lines as JSON (:func:`layout`); :func:`document_from_pages`
rebuilds the same :class:`~tcm_desktop.ocr.reader.OcrDocument` (text,
offsets, boxes, confidences) from them, so highlighting and the
low-confidence marks work exactly as right after reading.

Images are PNG (lossless: a rendered or scanned page compresses well); a page
whose PNG would exceed :data:`MAX_PNG_BYTES` (a noisy phone photo) is stored as
JPEG at quality :data:`JPEG_QUALITY`, which keeps text legible at a fraction of
the size. The records package stores what this module produces without
knowing the OCR types (the two packages are independent layers).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from tcm_desktop.ocr.reader import OcrChar, OcrDocument, OcrLine, OcrPage, decode_image

LAYOUT_VERSION = 1
MAX_PNG_BYTES = 1_500_000
JPEG_QUALITY = 90


@dataclass(frozen=True)
class EncodedPage:
    """One page ready to store: 1-based page number, encoded image, layout (JSON-able)."""

    page: int
    data: bytes
    layout: dict[str, Any]


class PageLike(Protocol):
    page: int
    data: bytes
    layout: Mapping[str, Any] | None


def encode_image(image: np.ndarray) -> bytes:
    """PNG, or JPEG when the PNG is too large (see the module docstring)."""
    from PIL import Image

    img = Image.fromarray(image)
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=False, compress_level=6)
    if buf.tell() <= MAX_PNG_BYTES:
        return buf.getvalue()
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


def layout(page: OcrPage, source: str = "") -> dict[str, Any]:
    """The page's lines as JSON-able data: ``{"v", "source", "angle", "size": [w, h], "lines": [...]}``;
    each line ``{"box": [x0, y0, x1, y1], "chars": [[char, x0, y0, x1, y1, confidence], ...]}``."""
    h, w = page.image.shape[:2]
    return {
        "v": LAYOUT_VERSION, "source": source, "angle": page.angle, "size": [int(w), int(h)],
        "lines": [{"box": list(line.box),
                   "chars": [[c.char, *map(int, c.box), round(float(c.confidence), 4)] for c in line.chars]}
                  for line in page.lines],
    }


def encode_pages(doc: OcrDocument) -> list[EncodedPage]:
    """Every page of a read document, encoded for storage (a few tenths of a second per page: run it
    where the reading runs, not on the GUI thread)."""
    return [EncodedPage(p.index + 1, encode_image(p.image), layout(p, doc.source)) for p in doc.pages]


def _page(index: int, image: np.ndarray, data: Mapping[str, Any] | None) -> OcrPage:
    lines = []
    for ln in (data or {}).get("lines", []):
        chars = [OcrChar(str(c[0]), (int(c[1]), int(c[2]), int(c[3]), int(c[4])), float(c[5])) for c in ln["chars"]]
        lines.append(OcrLine(chars, tuple(int(v) for v in ln["box"])))  # type: ignore[arg-type]
    return OcrPage(index, image, lines, float((data or {}).get("angle", 0.0)))


def document_from_pages(pages: Iterable[PageLike], name: str = "") -> OcrDocument | None:
    """The document as it was read, from stored pages (None when there are none).

    A page stored without a layout (or with one of another version) shows its image without boxes.
    A page whose image cannot be decoded raises :class:`~tcm_desktop.ocr.reader.OcrError` (one sentence).
    """
    stored = sorted(pages, key=lambda p: p.page)
    if not stored:
        return None
    out = []
    for i, p in enumerate(stored):
        lay = p.layout if p.layout and p.layout.get("v") == LAYOUT_VERSION else None
        name = name or str((lay or {}).get("source", ""))
        out.append(_page(i, decode_image(p.data, f"page {p.page}"), lay))
    return OcrDocument.from_pages(name or "page", out)
