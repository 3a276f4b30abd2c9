"""Visually confusable characters: which lexicon characters an OCR reading may stand for.

Why: a recogniser misreads a character as one that *looks* alike (脘 → 皖,
枳 → 积), not one that sounds alike, so the table is built from glyph shapes
alone. Each character is rendered with the CJK font shipped in
``resources/fonts`` (WenQuanYi Micro Hei), centred in a square, blurred and
compared by cosine similarity; for every character the recogniser can output,
the most similar characters that occur in lexicon terms are kept. No OCR
output and no record text goes into the table.

    python -m tcm_desktop.ocr.confusables build   # writes resources/ocr/confusables.tsv
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

from tcm_desktop.config import cjk_font_path, resources_dir

GLYPH_PX = 40
TOP_K = 8
MIN_SIMILARITY = 0.80


def table_path() -> Path:
    return resources_dir() / "ocr" / "confusables.tsv"


def _is_cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def render_glyphs(chars: list[str], font_path: Path, px: int = GLYPH_PX) -> np.ndarray:
    """``(len(chars), px*px)`` float32 unit vectors of blurred, centred glyphs."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    font = ImageFont.truetype(str(font_path), int(px * 0.8))
    out = np.zeros((len(chars), px * px), dtype=np.float32)
    for i, ch in enumerate(chars):
        img = Image.new("L", (px, px), 0)
        draw = ImageDraw.Draw(img)
        x0, y0, x1, y1 = draw.textbbox((0, 0), ch, font=font)
        draw.text(((px - (x1 - x0)) / 2 - x0, (px - (y1 - y0)) / 2 - y0), ch, fill=255, font=font)
        v = np.asarray(img.filter(ImageFilter.GaussianBlur(1.5)), dtype=np.float32).ravel()
        n = float(np.linalg.norm(v))
        out[i] = v / n if n else v
    return out


def build(ocr_charset: Iterable[str], lexicon_chars: Iterable[str], font_path: Path,
          top_k: int = TOP_K, min_similarity: float = MIN_SIMILARITY) -> list[tuple[str, str, float]]:
    """``(read, meant, similarity)`` rows: for each OCR output character, its look-alikes among lexicon characters."""
    src = sorted({c for c in ocr_charset if _is_cjk(c)})
    dst = sorted({c for c in lexicon_chars if _is_cjk(c)})
    a, b = render_glyphs(src, font_path), render_glyphs(dst, font_path)
    rows: list[tuple[str, str, float]] = []
    for lo in range(0, len(src), 512):
        sims = a[lo : lo + 512] @ b.T
        for i, row in enumerate(sims):
            order = np.argsort(-row)[: top_k + 1]
            for j in order:
                if dst[j] != src[lo + i] and row[j] >= min_similarity:
                    rows.append((src[lo + i], dst[j], float(row[j])))
    return rows


@lru_cache(maxsize=2)
def load(path: Path | None = None) -> dict[str, dict[str, float]]:
    """``{read: {meant: similarity}}`` from the shipped table (empty when it is missing)."""
    path = path or table_path()
    table: dict[str, dict[str, float]] = {}
    if not path.exists():
        return table
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        read, meant, sim = line.split("\t")
        table.setdefault(read, {})[meant] = float(sim)
    return table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=("build",))
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    from tcm_desktop.config import models_dir
    from tcm_desktop.ocr.reader import recogniser_charset
    from tcm_desktop.text.lexicon import Lexicon

    lex = Lexicon.load(models_dir() / "ner" / "lexicon.json")
    chars = {ch for cat in lex.categories for term in lex.terms(cat) for ch in term}
    rows = build(recogniser_charset(), chars, cjk_font_path())
    out = args.out or table_path()
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8") as f:
        f.write(f"# read\tmeant\tcosine of blurred {GLYPH_PX}px glyphs ({cjk_font_path().name}); top {TOP_K}, >= {MIN_SIMILARITY}\n")
        f.write("# built by: python -m tcm_desktop.ocr.confusables build (recogniser charset x model lexicon characters)\n")
        for read, meant, sim in rows:
            f.write(f"{read}\t{meant}\t{sim:.3f}\n")
    print(f"{len(rows)} pairs -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
