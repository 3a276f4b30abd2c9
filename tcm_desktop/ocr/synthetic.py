"""Typed text rendered as a photographed page: for the OCR benchmark and tests.

Why: the team's test records exist only as text; to measure OCR on them
they are typeset with the shipped CJK font (WenQuanYi Micro Hei, both faces of
the collection: proportional and mono) on an A4 page at 150 dpi, then put
through what a phone or scanner does to paper: rotation, perspective, uneven
light, blur and JPEG compression. Every distortion is drawn from a seeded
generator, so a page is the same on every run.
"""

from __future__ import annotations

import io
import random
from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from tcm_desktop.config import cjk_font_path

PAGE_W, PAGE_H = 1240, 1754  # A4 at 150 dpi
MARGIN = 90


@dataclass
class Distortion:
    font_face: int = 0  # 0: WenQuanYi Micro Hei, 1: its mono face
    font_px: int = 30
    rotation: float = 0.0  # degrees
    perspective: float = 0.0  # largest corner shift, fraction of the side
    light: float = 0.0  # darkening at the far corner, 0..1
    blur: float = 0.0  # Gaussian radius in px
    jpeg_quality: int = 0  # 0: no JPEG round trip

    def to_dict(self) -> dict:
        return asdict(self)


def random_distortion(rng: random.Random, level: str = "typical") -> Distortion:
    """``typical``: what a clinic phone photo or scan shows. ``hard``: small print, a blurred,
    heavily compressed photo in poor light, still legible to a person."""
    if level == "hard":
        return Distortion(
            font_face=rng.choice((0, 1)),
            font_px=rng.choice((18, 20, 22)),
            rotation=round(rng.uniform(-6, 6), 2),
            perspective=round(rng.uniform(0.01, 0.05), 3),
            light=round(rng.uniform(0.3, 0.6), 2),
            blur=round(rng.uniform(1.0, 1.5), 2),
            jpeg_quality=rng.choice((25, 35, 45)),
        )
    return Distortion(
        font_face=rng.choice((0, 1)),
        font_px=rng.choice((22, 26, 30, 36)),
        rotation=round(rng.uniform(-4, 4), 2),
        perspective=round(rng.uniform(0, 0.04), 3),
        light=round(rng.uniform(0, 0.45), 2),
        blur=round(rng.choice((0.0, 0.5, 0.8, 1.1)), 2),
        jpeg_quality=rng.choice((0, 45, 60, 80, 92)),
    )


def wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Break each paragraph into lines no wider than ``width`` pixels (Chinese breaks anywhere)."""
    lines: list[str] = []
    for para in text.split("\n"):
        line = ""
        for ch in para:
            if line and font.getlength(line + ch) > width:
                lines.append(line)
                line = ch
            else:
                line += ch
        lines.append(line)
    return lines


def render_text(text: str, font_px: int = 30, font_face: int = 0) -> tuple[Image.Image, str]:
    """A clean white page with ``text`` typeset; returns the page and the part of the text that fitted."""
    font = ImageFont.truetype(str(cjk_font_path()), font_px, index=font_face)
    img = Image.new("RGB", (PAGE_W, PAGE_H), "white")
    draw = ImageDraw.Draw(img)
    y, step = MARGIN, int(font_px * 1.6)
    kept: list[str] = []
    for para in text.split("\n"):
        rows = wrap(para, font, PAGE_W - 2 * MARGIN)
        if y + step * len(rows) > PAGE_H - MARGIN:
            break
        for row in rows:
            draw.text((MARGIN, y), row, fill=(20, 20, 20), font=font)
            y += step
        kept.append(para)
    return img, "\n".join(kept)


def distort(img: Image.Image, d: Distortion, seed: int = 0) -> Image.Image:
    import cv2

    rng = np.random.default_rng(seed)
    arr = np.asarray(img, dtype=np.float32)
    h, w = arr.shape[:2]
    if d.light:
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        gx, gy = rng.uniform(-1, 1, 2)
        ramp = (gx * (xx / w - 0.5) + gy * (yy / h - 0.5)) + 0.5
        arr = arr * (1.0 - d.light * np.clip(ramp, 0, 1))[..., None]
    out = arr.clip(0, 255).astype(np.uint8)
    if d.perspective:
        src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
        dst = src + rng.uniform(-d.perspective, d.perspective, (4, 2)).astype(np.float32) * np.float32([w, h])
        m = cv2.getPerspectiveTransform(src, dst)
        out = cv2.warpPerspective(out, m, (w, h), borderValue=(235, 235, 235))
    img = Image.fromarray(out)
    if d.rotation:
        img = img.rotate(d.rotation, resample=Image.BICUBIC, expand=True, fillcolor=(235, 235, 235))
    if d.blur:
        img = img.filter(ImageFilter.GaussianBlur(d.blur))
    if d.jpeg_quality:
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=d.jpeg_quality)
        img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    return img


def render_page(text: str, d: Distortion, seed: int = 0) -> tuple[Image.Image, str]:
    page, kept = render_text(text, d.font_px, d.font_face)
    return distort(page, d, seed), kept
