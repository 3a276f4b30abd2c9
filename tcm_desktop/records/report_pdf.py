"""A printable PDF of one structured record: the doctor's handout / paper chart copy.

reportlab with the shipped WenQuanYi Micro Hei (a TrueType ``.ttc``, embedded
as a subset) so Chinese renders on any PC and stays *extractable text* (copy,
search, screen readers) rather than pictures of glyphs. Paragraphs use
``wordWrap='CJK'`` because Chinese has no spaces to break lines at.

Clinical layout choices: absent (否定) findings get their own column so a
negated symptom can never be read as present; history/possible/family findings
carry their Chinese mark; the prescription is a table a pharmacy can follow.

Headings follow the script of the interface or of the record (``script``):
traditional-script records from Hong Kong, Taiwan or Macau get 病歷原文, 處方 …
(OpenCC ``s2t`` of the same headings, so the two cannot drift apart).
"""

from __future__ import annotations

import datetime as _dt
import functools
import io
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from tcm_desktop.config import cjk_font_path
from tcm_desktop.schema import ASSERTION_ZH, CATEGORIES, CATEGORY_BY_CODE
from tcm_desktop.structured import FoundEntity, StructuredRecord
from tcm_desktop.text.modifications import compare
from tcm_desktop.text.script import is_traditional, to_traditional
from tcm_desktop.tongue.wording import ATTRIBUTE_ZH, report_fields

Heading = Callable[[str], str]


def _same(text: str) -> str:
    return text


def heading_script(script: str, record_text: str) -> Heading:
    """How fixed headings are written: ``simplified``, ``traditional``, or ``auto`` (the record's script)."""
    if script == "traditional" or (script == "auto" and is_traditional(record_text)):
        return to_traditional
    return _same


FONT = "WQYMicroHei"
FALLBACK = "HanaMinA"
#: TrueType fonts tried, in order, for characters the main font lacks (CJK Extension A such as 㿠 U+3FE0,
#: rare TCM characters). Hanazono Mincho A (SIL OFL) covers the whole BMP CJK range incl. Extension A;
#: Debian: fonts-hanazono (in the Makefile's APT_PACKAGES); a copy under resources/fonts wins.
FALLBACK_FILES = ("HanaMinA.ttf",)
FALLBACK_DIRS = ("/usr/share/fonts/truetype/hanazono",)
_GRID = colors.HexColor("#9aa5b1")
_HEAD_BG = colors.HexColor("#eef2f6")


def _register_font() -> str:
    """Register the CJK font once (reportlab keeps a global registry)."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        path = cjk_font_path()
        if not path.exists():
            raise FileNotFoundError(f"CJK font not found: {path}")
        pdfmetrics.registerFont(TTFont(FONT, str(path), subfontIndex=0))
        pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT, italic=FONT, boldItalic=FONT)
    return FONT


def fallback_font_path() -> Path | None:
    """The fallback TrueType font file, or None when none is installed."""
    for folder in (cjk_font_path().parent, *map(Path, FALLBACK_DIRS)):
        for name in FALLBACK_FILES:
            if (folder / name).is_file():
                return folder / name
    return None


@functools.cache
def main_font_chars() -> frozenset[int]:
    """Code points the main font has glyphs for."""
    _register_font()
    return frozenset(pdfmetrics.getFont(FONT).face.charToGlyph)


@functools.cache
def _fallback_font() -> tuple[str, frozenset[int]] | None:
    """Register the fallback font on first need; its name and code points (None when missing)."""
    path = fallback_font_path()
    if path is None:
        return None
    if FALLBACK not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FALLBACK, str(path)))
    return FALLBACK, frozenset(pdfmetrics.getFont(FALLBACK).face.charToGlyph)


def missing_chars(text: str) -> set[str]:
    """Characters of ``text`` that neither the main nor the fallback font can draw (whitespace excluded)."""
    main = main_font_chars()
    need = {c for c in text if ord(c) not in main and not c.isspace()}
    fb = _fallback_font() if need else None
    return {c for c in need if fb is None or ord(c) not in fb[1]}


def esc(text: str) -> str:
    """Escape for reportlab markup, drawing characters the main font lacks with the fallback font."""
    main = main_font_chars()
    if all(ord(c) in main or c.isspace() for c in text):
        return escape(text)
    fb = _fallback_font()
    out: list[str] = []
    run: list[str] = []
    run_fb = False

    def flush() -> None:
        if run:
            piece = escape("".join(run))
            out.append(f'<font name="{FALLBACK}">{piece}</font>' if run_fb else piece)
            run.clear()

    for c in text:
        use_fb = fb is not None and ord(c) not in main and ord(c) in fb[1]
        if use_fb != run_fb:
            flush()
            run_fb = use_fb
        run.append(c)
    flush()
    return "".join(out)


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=FONT, fontSize=10, leading=15, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=18, leading=24, alignment=TA_CENTER),
        "subtitle": ParagraphStyle("subtitle", parent=base, fontSize=11, leading=16, alignment=TA_CENTER,
                                   textColor=colors.HexColor("#444444")),
        "h2": ParagraphStyle("h2", parent=base, fontSize=12.5, leading=18, spaceBefore=8, spaceAfter=4,
                             textColor=colors.HexColor("#1f3a5f")),
        "text": ParagraphStyle("text", parent=base, fontSize=10.5, leading=19),
        "cell": ParagraphStyle("cell", parent=base, fontSize=9.5, leading=13),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=11, textColor=colors.HexColor("#555555")),
    }


def highlighted_markup(text: str, entities: list[FoundEntity]) -> str:
    """reportlab paragraph markup of ``text`` with each entity on its category colour (absent struck through)."""
    out: list[str] = []
    pos = 0
    for e in sorted(entities, key=lambda e: (e.start, e.end)):
        if e.start < pos or e.end > len(text):
            continue  # overlapping/out-of-range spans cannot be drawn; the tables still list them
        out.append(esc(text[pos : e.start]))
        cat = CATEGORY_BY_CODE.get(e.label)
        colour = cat.colour if cat else "#eeeeee"
        inner = esc(text[e.start : e.end])
        if e.assertion == "absent":
            inner = f"<strike>{inner}</strike>"
        out.append(f'<span backColor="{colour}">{inner}</span>')
        pos = e.end
    out.append(esc(text[pos:]))
    return "".join(out).replace("\n", "<br/>")


def _entity_label(e: FoundEntity, h: Heading = _same) -> str:
    """How one finding reads in a table: text, its canonical name if different, its assertion mark."""
    return e.reading(esc, lambda c: f"（{esc(c)}）", lambda a: f" [{h(ASSERTION_ZH.get(a, a))}]")


def _category_rows(record: StructuredRecord, st: dict[str, ParagraphStyle], h: Heading = _same) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for cat in CATEGORIES:
        ents = [e for e in record.entities if e.label == cat.code]
        if not ents:
            continue
        present = [_entity_label(e, h) for e in ents if e.assertion != "absent"]
        absent = [_entity_label(e, h) for e in ents if e.assertion == "absent"]
        name = Paragraph(f'<span backColor="{cat.colour}">&nbsp;{esc(h(cat.zh))}&nbsp;</span>', st["cell"])
        rows.append([name, Paragraph("、".join(_dedupe(present)), st["cell"]),
                     Paragraph("、".join(_dedupe(absent)), st["cell"])])
    return rows


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    return [x for x in items if not (x in seen or seen.add(x))]


def _table(data: list[list[Any]], widths: list[float], header: bool = True) -> Table:
    t = Table(data, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 9.5),
        ("GRID", (0, 0), (-1, -1), 0.5, _GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), _HEAD_BG))
    t.setStyle(TableStyle(style))
    return t


def _patient_line(patient: Any, h: Heading = _same) -> list[tuple[str, str]]:
    if patient is None:
        return []
    if isinstance(patient, str):
        return [(h("姓名"), patient)]
    p: Mapping[str, Any] = patient
    out = []
    for key, label in (("name", "姓名"), ("sex", "性别"), ("age", "年龄"), ("birth_year", "出生年份"), ("id", "病历号")):
        v = p.get(key)
        if v not in (None, ""):
            out.append((h(label), str(v)))
    return out


def _image_flowable(photo: str | Path | bytes, max_w: float, max_h: float) -> Image:
    src: Any = io.BytesIO(photo) if isinstance(photo, bytes | bytearray) else str(photo)
    img = Image(src)
    w, h = img.imageWidth, img.imageHeight
    scale = min(max_w / w, max_h / h)
    img.drawWidth, img.drawHeight = w * scale, h * scale
    return img


def _tongue_rows(tongue: Mapping[str, Any], st: dict[str, ParagraphStyle], h: Heading = _same) -> list[list[Any]]:
    """Rows of the tongue section from the tongue engine's result (``ok``/``attributes``, as the CLI
    stores it) or from already-worded fields (label -> text, as the GUI passes them)."""
    fields: Mapping[str, Any] = report_fields(dict(tongue)) if ("attributes" in tongue or "ok" in tongue) else tongue
    rows = []
    for k, v in fields.items():
        if isinstance(v, dict | list):
            v = json.dumps(v, ensure_ascii=False)
        name = ATTRIBUTE_ZH.get(str(k), "模型版本" if k == "model_version" else str(k))
        rows.append([Paragraph(esc(h(name)), st["cell"]), Paragraph(esc(str(v)), st["cell"])])
    return rows


def write_report(
    path: str | Path,
    record: StructuredRecord,
    *,
    clinic: str = "",
    patient: Any = None,
    doctor: str = "",
    photo_path: str | Path | bytes | None = None,
    tongue: Mapping[str, Any] | None = None,
    date: _dt.date | str | None = None,
    script: str = "auto",
) -> Path:
    """Write the record's PDF report to ``path`` and return it (headings in ``script``, see :func:`heading_script`)."""
    _register_font()
    h = heading_script(script, record.text)
    st = _styles()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    when = date if isinstance(date, str) else (date or _dt.date.today()).strftime("%Y-%m-%d")
    width = A4[0] - 36 * mm
    story: list[Any] = []

    story.append(Paragraph(esc(clinic or h("中医门诊")), st["title"]))
    story.append(Paragraph(h("中医病历结构化报告"), st["subtitle"]))
    story.append(Spacer(1, 4 * mm))

    info = _patient_line(patient, h) + [(h("就诊日期"), when)]
    if record.id:
        info.append((h("记录号"), record.id))
    cells = [Paragraph(f"<b>{esc(k)}</b>：{esc(v)}", st["cell"]) for k, v in info]
    while len(cells) % 3:
        cells.append("")
    story.append(_table([cells[i : i + 3] for i in range(0, len(cells), 3)], [width / 3] * 3, header=False))

    story.append(Paragraph(h("病历原文"), st["h2"]))
    story.append(Paragraph(highlighted_markup(record.text, record.entities), st["text"]))
    used = [c for c in CATEGORIES if any(e.label == c.code for e in record.entities)]
    if used:
        chips = "　".join(f'<span backColor="{c.colour}">&nbsp;{esc(h(c.zh))}&nbsp;</span>' for c in used)
        story.append(Spacer(1, 2 * mm))
        story.append(Paragraph(h("图例：") + chips, st["small"]))
        story.append(Paragraph(h("<strike>删除线</strike>表示否定（无）"), st["small"]))

    rows = _category_rows(record, st, h)
    if rows:
        story.append(Paragraph(h("结构化信息"), st["h2"]))
        head = [Paragraph(f"<b>{h(x)}</b>", st["cell"]) for x in ("类别", "所见（存在／既往／可能／家族）", "否定（无）")]
        story.append(_table([head] + rows, [26 * mm, (width - 26 * mm) * 0.62, (width - 26 * mm) * 0.38]))

    pres = record.prescription
    if pres.items or pres.formula:
        block: list[Any] = [Paragraph(h("处方"), st["h2"])]
        meta = []
        if pres.formula:
            meta.append(h("方剂：") + esc("、".join(pres.formula)))
        if pres.doses:
            meta.append(h("剂数：") + esc(pres.doses))
        if pres.usage:
            meta.append(h("用法：") + esc("，".join(pres.usage)))
        mods = compare(pres, entities=record.entities).summary()
        if mods:
            meta.append(h("加减：") + esc(mods))
        if meta:
            block.append(Paragraph("　".join(meta), st["base"]))
            block.append(Spacer(1, 2 * mm))
        if pres.items:
            head = [Paragraph(f"<b>{h(x)}</b>", st["cell"]) for x in ("序号", "药名", "规范名", "剂量", "用法")]
            data = [head] + [
                [str(i), Paragraph(esc(it.name), st["cell"]), Paragraph(esc(it.canonical or it.name), st["cell"]),
                 Paragraph(esc(it.dose), st["cell"]), Paragraph(esc(it.usage), st["cell"])]
                for i, it in enumerate(pres.items, 1)
            ]
            block.append(_table(data, [14 * mm, (width - 14 * mm) * 0.28, (width - 14 * mm) * 0.28,
                                       (width - 14 * mm) * 0.18, (width - 14 * mm) * 0.26]))
        story.append(KeepTogether(block))

    tongue = tongue if tongue is not None else record.tongue
    if photo_path is not None or tongue:
        block = [Paragraph(h("舌象"), st["h2"])]
        img = _image_flowable(photo_path, 60 * mm, 60 * mm) if photo_path is not None else None
        trows = _tongue_rows(tongue, st, h) if tongue else [[Paragraph(h("尚未分析"), st["cell"]), ""]]
        tw = (width - 64 * mm if img else width) - 6 * mm
        ttable = _table(trows, [24 * mm, tw - 24 * mm], header=False)
        if img:
            both = Table([[img, ttable]], colWidths=[64 * mm, width - 64 * mm])
            both.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
            block.append(both)
        else:
            block.append(ttable)
        story.append(KeepTogether(block))

    story.append(Spacer(1, 10 * mm))
    sign = Table(
        [[Paragraph(h("医师：") + esc(doctor), st["base"]), Paragraph(h("签名："), st["base"]), "",
          Paragraph(h("日期：") + esc(when), st["base"])]],
        colWidths=[width * 0.3, width * 0.12, width * 0.3, width * 0.28],
    )
    sign.setStyle(TableStyle([("LINEBELOW", (2, 0), (2, 0), 0.8, colors.black), ("VALIGN", (0, 0), (-1, -1), "BOTTOM")]))
    story.append(KeepTogether([sign]))

    model = record.model_version

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.setFillColor(colors.HexColor("#777777"))
        note = h("本报告由 TCM Structurer 辅助生成，须经医师审核签名后有效")
        if model:
            note += h("　模型 ") + model
        canvas.drawString(18 * mm, 10 * mm, note)
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, h(f"第 {doc.page} 页"))
        canvas.restoreState()

    tmp = tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp", delete=False)
    tmp.close()
    doc = SimpleDocTemplate(tmp.name, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=18 * mm, title=f"{clinic} {h('病历')} {record.id}".strip(), author=doctor)
    try:
        doc.build(story, onFirstPage=footer, onLaterPages=footer)
        os.replace(tmp.name, path)  # the old report stays whole until the new one is complete
    finally:
        Path(tmp.name).unlink(missing_ok=True)
    return path
