"""Safe image loading: every failure becomes a message, never an exception.

Handles truncated files, non-images, huge dimensions (checked before decoding),
CMYK, palette/alpha, EXIF rotation, grayscale and 16-bit images.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

MAX_PIXELS = 40_000_000  # refuse anything larger before decoding it
MIN_SIDE = 32
DRAFT_SIDE = 1024  # JPEGs are decoded at reduced scale (at least this many pixels per side; the engine works at <= 1024)


MAX_BYTES = 50 * 1024 * 1024  # a clinic photo is a few MB; refuse before reading pixels


def check_image_bytes(data: bytes | None) -> str | None:
    """Why these bytes must not be decoded (empty, too many bytes or pixels, not an image), or None.

    Reads only the header (no pixel decode), so an image bomb that claims
    100,000 x 100,000 pixels is refused in microseconds, before any GUI decode.
    """
    from PIL import Image, UnidentifiedImageError

    if not data:
        return "empty image data"
    if len(data) > MAX_BYTES:
        return f"image file too large ({len(data) // (1024 * 1024)} MB); at most {MAX_BYTES // (1024 * 1024)} MB"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                w, h = im.size
    except (Image.DecompressionBombError, UnidentifiedImageError):
        return "not an image, or an unsupported image format"
    except Exception:  # noqa: BLE001 - any header that cannot be parsed
        return "not an image, or an unreadable image header"
    if w * h > MAX_PIXELS:
        return f"image too large ({w}x{h}); at most {MAX_PIXELS // 1_000_000} megapixels"
    return None


@dataclass
class Loaded:
    rgb: np.ndarray | None  # H x W x 3 uint8 at the size the mask must have (see ``size``)
    size: tuple[int, int] | None  # (width, height) of the original image
    grayscale: bool = False
    message: str | None = None


def load_image(path: str | Path) -> Loaded:
    """Decode an image file; a missing or bad file gives ``Loaded(rgb=None, message=...)``."""
    p = Path(path)
    if not p.is_file():
        return Loaded(None, None, message=f"file not found: {p}")
    return _decode(p)


def load_image_bytes(data: bytes) -> Loaded:
    """Decode an encoded image held in memory (a pasted, dropped or captured photo), with the
    same guards and messages as :func:`load_image`."""
    if not data:
        return Loaded(None, None, message="empty image data")
    return _decode(io.BytesIO(data))


def _decode(src: Path | BinaryIO) -> Loaded:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(src) as im:
                w, h = im.size
                if w * h > MAX_PIXELS:
                    return Loaded(None, (w, h), message=f"image too large ({w}x{h}); at most {MAX_PIXELS // 1_000_000} megapixels")
                if min(w, h) < MIN_SIDE:
                    return Loaded(None, (w, h), message=f"image too small ({w}x{h}); at least {MIN_SIDE} px per side")
                mode = im.mode
                if im.format == "JPEG" and max(w, h) > 2 * DRAFT_SIDE:
                    im.draft("RGB", (DRAFT_SIDE, DRAFT_SIDE))
                im.load()
                try:
                    orientation = int(im.getexif().get(0x0112, 1))
                except Exception:  # malformed EXIF: ignore the rotation
                    orientation = 1
                try:
                    im = ImageOps.exif_transpose(im)
                except Exception:
                    pass
                full = (h, w) if orientation in (5, 6, 7, 8) else (w, h)
                arr = _to_rgb8(im)
                gray = mode in ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "I;16N", "F") or _is_gray(arr)
                return Loaded(arr, full, grayscale=gray)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return Loaded(None, None, message="image dimensions too large (decompression-bomb guard)")
    except UnidentifiedImageError:
        return Loaded(None, None, message="not an image, or an unsupported image format")
    except (OSError, SyntaxError, ValueError, MemoryError) as exc:
        msg = str(exc)
        if "truncated" in msg.lower():
            return Loaded(None, None, message="image file is truncated")
        return Loaded(None, None, message=f"cannot decode image: {msg[:200]}")


def _to_rgb8(im) -> np.ndarray:
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        hi = a.max() if a.size else 1.0
        scale = 255.0 / (65535.0 if hi > 255 else 255.0) if im.mode != "F" else (255.0 / hi if hi > 0 else 1.0)
        g = np.clip(a * scale, 0, 255).astype(np.uint8)
        return np.repeat(g[..., None], 3, axis=2)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        im = im.convert("RGBA")
        bg = np.full((im.size[1], im.size[0], 3), 255, np.float32)
        a = np.asarray(im, dtype=np.float32)
        alpha = a[..., 3:4] / 255.0
        return (a[..., :3] * alpha + bg * (1 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(np.asarray(im.convert("RGB"), dtype=np.uint8))


def _is_gray(rgb: np.ndarray, tol: int = 4) -> bool:
    step = max(1, int(np.sqrt(rgb.shape[0] * rgb.shape[1] / 40000)))
    s = rgb[::step, ::step].astype(np.int16)
    d = np.maximum(np.abs(s[..., 0] - s[..., 1]), np.abs(s[..., 1] - s[..., 2]))
    return bool(np.mean(d <= tol) > 0.99)
