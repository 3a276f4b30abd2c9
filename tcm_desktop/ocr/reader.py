"""Paper to text: image or PDF in, pages of lines with per-character boxes and confidences out.

The recogniser is RapidOCR (PP-OCRv4 detection + recognition, ONNX models
inside the ``rapidocr-onnxruntime`` wheel, onnxruntime on the CPU), so nothing
is downloaded at run time. Around it this module adds what a clinic page needs:

- **safety**: the file size and the pixel count are checked *before* decoding
  (image bombs), and every unreadable, corrupt or blank input becomes one
  sentence (:class:`OcrError`);
- **deskew**: the page is rotated upright by the angle that makes the rows of
  ink sharpest (projection profile over -10..10 degrees), so a phone photo
  taken at a slant reads as straight lines;
- **reading order**: detected line boxes are grouped into rows by vertical
  overlap, rows top to bottom, boxes left to right; a row that runs to the
  right margin continues into the next one (a wrapped paragraph) instead of
  starting a new line;
- **per-character boxes**: RapidOCR's ``return_word_box`` gives each
  character's horizontal position from the CTC decoding columns of the line
  crop (Chinese characters one by one, Latin runs as one word). A word box of
  several characters is split evenly by character count; when the word boxes
  do not line up with the text at all, the line box is split by character
  width (CJK full width, ASCII half width). Each character keeps the
  recogniser's own probability as its confidence.
"""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tcm_desktop.artifacts import default_threads
from tcm_desktop.ocr.pdf import PdfError, PdfPage, is_pdf, read_pdf, render_pages

MAX_FILE_BYTES = 40 * 1024 * 1024
MAX_PIXELS = 50_000_000
MIN_SIDE = 32
#: below this mean character confidence a page is treated as unreadable (e.g. handwriting)
UNREADABLE_CONFIDENCE = 0.75
#: characters below this confidence are marked for review and may be corrected
LOW_CONFIDENCE = 0.90
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


class OcrError(ValueError):
    """An input that cannot be read as a page; the message is one sentence for the user."""


Box = tuple[int, int, int, int]


@dataclass
class OcrChar:
    char: str
    box: Box  # x0, y0, x1, y1 in the (deskewed) page image
    confidence: float


@dataclass
class OcrLine:
    chars: list[OcrChar]
    box: Box

    @property
    def text(self) -> str:
        return "".join(c.char for c in self.chars)


@dataclass
class OcrPage:
    index: int
    image: np.ndarray = field(repr=False)  # RGB uint8, deskewed: the boxes refer to it
    lines: list[OcrLine]
    angle: float = 0.0
    seconds: float = 0.0

    @property
    def chars(self) -> list[OcrChar]:
        return [c for line in self.lines for c in line.chars]

    @property
    def mean_confidence(self) -> float:
        chars = self.chars
        return float(np.mean([c.confidence for c in chars])) if chars else 0.0


@dataclass
class OcrDocument:
    """The text of all pages, and for every text offset the page and character it came from."""

    source: str
    pages: list[OcrPage]
    text: str = ""
    #: for each offset of ``text``: (page index, OcrChar) or None for inserted line breaks
    positions: list[tuple[int, OcrChar] | None] = field(default_factory=list, repr=False)

    @classmethod
    def from_pages(cls, source: str, pages: list[OcrPage]) -> OcrDocument:
        doc = cls(source, pages)
        parts: list[str] = []
        for p in pages:
            if parts and parts[-1] != "\n":
                parts.append("\n")
                doc.positions.append(None)
            for li, line in enumerate(p.lines):
                if li and not _continues(p.lines[li - 1], p):
                    parts.append("\n")
                    doc.positions.append(None)
                for c in line.chars:
                    parts.append(c.char)
                    doc.positions.append((p.index, c))
        doc.text = "".join(parts)
        return doc

    @property
    def mean_confidence(self) -> float:
        confs = [p[1].confidence for p in self.positions if p]
        return float(np.mean(confs)) if confs else 0.0

    @property
    def readable(self) -> bool:
        """False when the recogniser is too unsure for the text to be useful (handwriting, a blurred photo)."""
        return bool(self.text.strip()) and self.mean_confidence >= UNREADABLE_CONFIDENCE

    def confidences(self) -> list[float]:
        return [p[1].confidence if p else 1.0 for p in self.positions]

    def low_confidence_offsets(self, threshold: float = LOW_CONFIDENCE) -> list[int]:
        return [i for i, p in enumerate(self.positions) if p and p[1].confidence < threshold]

    def boxes(self, start: int, end: int) -> list[tuple[int, Box]]:
        """(page, box) of every character in ``text[start:end]``: where an entity sits on the page."""
        return [(p[0], p[1].box) for p in self.positions[start:end] if p]

    def offset_at(self, page: int, x: float, y: float) -> int | None:
        """The text offset of the character whose box holds the point (the reverse of :meth:`boxes`)."""
        for i, p in enumerate(self.positions):
            if p and p[0] == page:
                x0, y0, x1, y1 = p[1].box
                if x0 <= x <= x1 and y0 <= y <= y1:
                    return i
        return None

    def summary(self) -> dict:
        return {
            "pages": len(self.pages),
            "mean_confidence": round(self.mean_confidence, 4),
            "low_confidence_characters": len(self.low_confidence_offsets()),
            "readable": self.readable,
        }


def _continues(prev: OcrLine, page: OcrPage) -> bool:
    """True when ``prev`` was wrapped at the right margin, so the next line continues its paragraph."""
    if not prev.chars:
        return False
    right = max(line.box[2] for line in page.lines)
    char_w = np.median([c.box[2] - c.box[0] for c in prev.chars]) or 1
    return prev.box[2] >= right - 1.5 * char_w and prev.text[-1] not in "。：:；;！!？?"


# ---------------------------------------------------------------- loading pages


def load_images(path: str | Path, check_only: bool = False) -> list[np.ndarray]:
    """The pages of an image or PDF file as RGB arrays, after the size and pixel checks."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise OcrError(f"{path.name}: cannot read the file ({exc.strerror or exc}).") from None
    if size == 0:
        raise OcrError(f"{path.name}: the file is empty.")
    if size > MAX_FILE_BYTES:
        raise OcrError(f"{path.name}: the file is {size // 2**20} MB; at most {MAX_FILE_BYTES // 2**20} MB can be read.")
    if check_only:
        return []
    data = path.read_bytes()
    return images_from_bytes(data, path.name, pdf=is_pdf(path, data[:5]))


def images_from_bytes(data: bytes, name: str = "image", pdf: bool = False) -> list[np.ndarray]:
    if pdf or data[:5] == b"%PDF-":
        try:
            return render_pages(data)
        except PdfError as exc:
            raise OcrError(f"{name}: {exc}.") from None
    return [decode_image(data, name)]


def decode_image(data: bytes, name: str = "image") -> np.ndarray:
    """Decode with Pillow after reading only the header for the pixel count (no bomb is ever decoded)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if len(data) > MAX_FILE_BYTES:
        raise OcrError(f"{name}: the image is larger than {MAX_FILE_BYTES // 2**20} MB.")
    try:
        with Image.open(io.BytesIO(data)) as img:
            w, h = img.size  # header only
            if w * h > MAX_PIXELS:
                raise OcrError(f"{name}: the image has {w}×{h} pixels; at most {MAX_PIXELS // 10**6} million can be read.")
            if min(w, h) < MIN_SIDE:
                raise OcrError(f"{name}: the image is only {w}×{h} pixels, too small to hold readable text.")
            img = ImageOps.exif_transpose(img)
            rgb = np.asarray(img.convert("RGB"))
    except OcrError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError, SyntaxError) as exc:
        raise OcrError(f"{name}: not a readable image or PDF ({type(exc).__name__}).") from None
    return rgb


def is_blank(image: np.ndarray) -> bool:
    """A page with (almost) no ink: nothing to read."""
    gray = image.mean(axis=2) if image.ndim == 3 else image
    return float(gray.std()) < 4.0


# ---------------------------------------------------------------- deskew


def estimate_skew(image: np.ndarray, max_angle: float = 10.0) -> float:
    """The rotation (degrees, counter-clockwise) that makes the text rows horizontal."""
    import cv2

    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    scale = 800 / max(gray.shape)
    if scale < 1:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ink = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)
    h, w = ink.shape
    centre = (w / 2, h / 2)

    def sharpness(angle: float) -> float:
        m = cv2.getRotationMatrix2D(centre, angle, 1.0)
        rows = cv2.warpAffine(ink, m, (w, h), flags=cv2.INTER_NEAREST).sum(axis=1, dtype=np.float64)
        return float(np.var(rows))

    best = max(np.arange(-max_angle, max_angle + 0.01, 1.0), key=sharpness)
    best = max(np.arange(best - 1.0, best + 1.01, 0.2), key=sharpness)
    return float(round(best, 2))


def rotate(image: np.ndarray, angle: float) -> np.ndarray:
    """Rotate by ``angle`` degrees on a canvas large enough to keep every corner, filled white."""
    import cv2

    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(h * sin + w * cos), int(h * cos + w * sin)
    m[0, 2] += nw / 2 - w / 2
    m[1, 2] += nh / 2 - h / 2
    return cv2.warpAffine(image, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))


# ---------------------------------------------------------------- recognition


@dataclass(frozen=True)
class EngineSettings:
    """RapidOCR settings (see ``benchmarks/ocr_speed.py`` and docs/ocr.md for how they were chosen).

    ``det_max_side`` scales the page down for *detection* only (finding the lines) so that its longer
    side is at most that many pixels; each line is still cut from the full-resolution page for
    recognition. 0 keeps RapidOCR's own rule, which detects on an A4 page at 150 dpi at full size
    (its ``limit_type="max"`` ignores ``limit_side_len`` below 2000 px in 1.4.4, hence the hook).
    ``use_cls`` runs the 0/180 degree line classifier. ``spinning=False`` stops onnxruntime's
    worker threads from busy-waiting between operators (the text model does the same, issue 14).
    """

    det_max_side: int = 0
    rec_batch_num: int = 6
    use_cls: bool = True
    spinning: bool = True
    threads: int = 0  # 0: default_threads()


#: what the app uses: detection on a copy at most 1280 px long, threads that do not spin, lines recognised
#: one at a time (a batch pads every line to the widest one). Measured with ``benchmarks/ocr_speed.py``
#: (docs/ocr.md): about a quarter of the CPU time of RapidOCR's defaults per page and no more character
#: errors; 960 px was a little faster but sits close to 800 px, where the smallest type (18 px) stopped
#: being found; the line classifier costs almost nothing and is kept (upside-down lines).
DEFAULT_SETTINGS = EngineSettings(det_max_side=1280, spinning=False, rec_batch_num=1)
_BUILD_LOCK = threading.Lock()


class Recogniser:
    """One RapidOCR engine with its settings; onnxruntime sessions are thread-safe, so one is shared."""

    def __init__(self, settings: EngineSettings = DEFAULT_SETTINGS) -> None:
        saved = {k: os.environ.get(k) for k in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR")}
        try:
            from rapidocr_onnxruntime import RapidOCR
            from rapidocr_onnxruntime.utils import infer_engine
        except Exception as exc:  # missing wheel: one sentence, not a traceback
            raise OcrError(f"the OCR engine is not installed ({exc}).") from None
        finally:
            # a non-headless OpenCV wheel (pulled in by rapidocr) points Qt at its own plugins on import
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
        self.settings = settings
        kwargs = {"intra_op_num_threads": settings.threads or default_threads(), "inter_op_num_threads": 1,
                  "rec_batch_num": settings.rec_batch_num}
        session_cls = getattr(infer_engine, "OrtInferSession", None)
        original = getattr(session_cls, "_init_sess_opts", None)
        if settings.spinning or original is None:
            self.ocr = RapidOCR(**kwargs)
        else:
            self._build_without_spinning(RapidOCR, kwargs, session_cls, original)
        det = self.ocr.text_det
        if settings.det_max_side and hasattr(det, "get_preprocess"):
            from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

            det.get_preprocess = lambda _max_wh: DetPreProcess(settings.det_max_side, "max", det.mean, det.std)

    def _build_without_spinning(self, rapidocr: Any, kwargs: dict, session_cls: Any, original: Any) -> None:
        """RapidOCR offers no hook for session options: add ours while its sessions are created."""

        def no_spin(config: dict) -> object:
            opts = original(config)
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            return opts

        with _BUILD_LOCK:  # the option hook is in place only while these sessions are made
            session_cls._init_sess_opts = staticmethod(no_spin)
            try:
                self.ocr = rapidocr(**kwargs)
            finally:
                session_cls._init_sess_opts = staticmethod(original)

    def __call__(self, bgr: np.ndarray) -> list:
        result, _ = self.ocr(bgr, return_word_box=True, use_cls=self.settings.use_cls)
        return result or []


_ENGINE: Recogniser | None = None
_ENGINE_LOCK = threading.Lock()


def _engine() -> Recogniser:
    """The app's recogniser, loaded once (about 0.5 s) and shared."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = Recogniser(DEFAULT_SETTINGS)
        return _ENGINE


def recogniser_charset() -> list[str]:
    """Every character the recogniser can output (from the model's own dictionary)."""
    return [c for c in _engine().ocr.text_rec.postprocess_op.character if len(c) == 1]


def _quad_box(quad) -> Box:
    xs = [p[0] for p in quad]
    ys = [p[1] for p in quad]
    return int(min(xs)), int(min(ys)), int(max(xs)), int(max(ys))


def _line_chars(text: str, line_box: Box, word_boxes, words, confs) -> list[OcrChar]:
    """Per-character boxes for one recognised line (see the module docstring for how)."""
    confs = list(confs) if confs is not None and len(confs) == len(text) else [1.0] * len(text)
    boxes: list[Box] = []
    if words and word_boxes and "".join(words).replace(" ", "") == text.replace(" ", ""):
        for word, quad in zip(words, word_boxes):
            x0, y0, x1, y1 = _quad_box(quad)
            n = len(word)
            for k in range(n):
                boxes.append((int(x0 + (x1 - x0) * k / n), y0, int(x0 + (x1 - x0) * (k + 1) / n), y1))
    out: list[OcrChar] = []
    if len(boxes) == len(text.replace(" ", "")):
        it = iter(boxes)
        for ch, conf in zip(text, confs):
            if ch != " ":
                out.append(OcrChar(ch, next(it), float(conf)))
        return out
    x0, y0, x1, y1 = line_box
    widths = [1.0 if ord(ch) > 0x2E80 else 0.5 for ch in text]
    total = sum(widths) or 1.0
    pos = 0.0
    for ch, wdt, conf in zip(text, widths, confs):
        a = x0 + (x1 - x0) * pos / total
        pos += wdt
        if ch != " ":
            out.append(OcrChar(ch, (int(a), y0, int(x0 + (x1 - x0) * pos / total), y1), float(conf)))
    return out


def _reading_order(lines: list[OcrLine]) -> list[OcrLine]:
    """Rows top to bottom (boxes overlapping vertically by half their height share a row), left to right."""
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda ln: (ln.box[1] + ln.box[3]) / 2):
        cy = (line.box[1] + line.box[3]) / 2
        if rows:
            last = rows[-1]
            top = np.mean([ln.box[1] for ln in last])
            bottom = np.mean([ln.box[3] for ln in last])
            if top <= cy <= bottom:
                last.append(line)
                continue
        rows.append([line])
    ordered: list[OcrLine] = []
    for row in rows:
        row.sort(key=lambda ln: ln.box[0])
        merged = OcrLine([c for ln in row for c in ln.chars],
                         (min(ln.box[0] for ln in row), min(ln.box[1] for ln in row),
                          max(ln.box[2] for ln in row), max(ln.box[3] for ln in row)))
        ordered.append(merged)
    return ordered


def read_image(image: np.ndarray, index: int = 0, deskew: bool = True, engine: Recogniser | None = None) -> OcrPage:
    """Recognise one page image (RGB); the returned page holds the deskewed image its boxes refer to.
    ``engine``: another :class:`Recogniser` (benchmarks of settings); default the app's."""
    t0 = time.perf_counter()
    angle = 0.0
    if deskew:
        angle = estimate_skew(image)
        if abs(angle) >= 0.3:
            image = rotate(image, angle)
    if is_blank(image):
        return OcrPage(index, image, [], angle, time.perf_counter() - t0)
    bgr = np.ascontiguousarray(image[..., ::-1])
    result = (engine or _engine())(bgr)
    lines: list[OcrLine] = []
    for item in result:
        quad, text, _score = item[0], item[1], item[2]
        word_boxes = item[3] if len(item) > 3 else None
        words = item[4] if len(item) > 4 else None
        confs = item[5] if len(item) > 5 else None
        box = _quad_box(quad)
        chars = _line_chars(text, box, word_boxes, words, confs)
        if chars:
            lines.append(OcrLine(chars, box))
    return OcrPage(index, image, _reading_order(lines), angle, time.perf_counter() - t0)


def page_from_text_layer(pdf_page: PdfPage, index: int) -> OcrPage:
    """A PDF page's own text as a page of lines (confidence 1: nothing was guessed)."""
    lines: list[OcrLine] = []
    current: list[OcrChar] = []
    for ch, box in [*pdf_page.chars, ("\n", (0, 0, 0, 0))]:
        if ch == "\n":
            boxes = [c.box for c in current if not c.char.isspace()]
            if boxes:
                while current[-1].char.isspace():
                    current.pop()
                while current[0].char.isspace():
                    current.pop(0)
                lines.append(OcrLine(current, (min(b[0] for b in boxes), min(b[1] for b in boxes),
                                               max(b[2] for b in boxes), max(b[3] for b in boxes))))
            current = []
        else:
            current.append(OcrChar(ch, box, 1.0))
    return OcrPage(index, pdf_page.image, lines)


def read_document(path: str | Path, progress: Callable[[int, int], None] | None = None) -> OcrDocument:
    """Read every page of an image or PDF file; raises :class:`OcrError` with one sentence when it cannot.

    A PDF page with a text layer is taken as written; a scanned page is recognised.
    """
    path = Path(path)
    load_images(path, check_only=True)
    data = path.read_bytes()
    if not is_pdf(path, data[:5]):
        return read_pages(images_from_bytes(data, path.name), path.name, progress)
    try:
        pdf_pages = read_pdf(data)
    except PdfError as exc:
        raise OcrError(f"{path.name}: {exc}.") from None
    sources = [p if p.has_text else p.image for p in pdf_pages]
    return read_pages(sources, path.name, progress)


def read_pages(sources: list[np.ndarray | PdfPage], name: str,
               progress: Callable[[int, int], None] | None = None) -> OcrDocument:
    """Recognise page images (a :class:`PdfPage` with a text layer is taken as written)."""
    pages = []
    for i, src in enumerate(sources):
        pages.append(page_from_text_layer(src, i) if isinstance(src, PdfPage) else read_image(src, i))
        if progress:
            progress(len(pages), len(sources))
    doc = OcrDocument.from_pages(name, pages)
    if not doc.text.strip():
        what = "page" if len(pages) == 1 else f"{len(pages)} pages"
        raise OcrError(f"{name}: no text was found on the {what} (blank, or too dark or blurred to read).")
    return doc
