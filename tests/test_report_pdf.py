"""The PDF report: embedded CJK font, extractable Chinese text, tables, escaping, photo."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from desktop_samples import sample_record  # noqa: E402

from tcm_desktop.records.report_pdf import highlighted_markup, write_report  # noqa: E402
from tcm_desktop.structured import FoundEntity, StructuredRecord  # noqa: E402

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout


@needs_poppler
def test_report_has_extractable_chinese_and_sections(tmp_path):
    from PIL import Image

    photo = tmp_path / "tongue.png"
    Image.new("RGB", (120, 90), (220, 120, 120)).save(photo)
    pdf = write_report(tmp_path / "r.pdf", sample_record("r1"), clinic="仁心中医诊所",
                       patient={"name": "王小明", "sex": "男", "age": 54}, doctor="李医生", photo_path=photo,
                       tongue={"body_colour": "淡红", "tooth_marks": "边有齿痕"}, date=dt.date(2024, 3, 18))
    text = _text(pdf)
    for needle in ("仁心中医诊所", "王小明", "2024-03-18", "李医生", "签名", "胃脘胀痛", "柴胡疏肝散",
                   "处方", "炙甘草", "甘草", "10g", "舌象", "舌色", "淡红", "齿痕", "边有齿痕", "否定", "高血压 [既往]"):
        assert needle in text, needle
    # the absent finding is listed in the 否定 column, on the 症状 row, not among present ones
    row = next(line for line in text.splitlines() if line.strip().startswith("症状"))
    assert "反酸" in row and row.index("反酸") > row.index("纳差")
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "WQYMicroHei" in fonts or "WenQuanYi" in fonts
    assert " yes " in fonts  # embedded


@needs_poppler
def test_special_characters_are_escaped_and_minimal_record(tmp_path):
    text = "血压<140/90 & 心率>100，无发热"
    s = text.index("发热")
    rec = StructuredRecord("x", text, [FoundEntity(s, s + 2, "SYMPTOM", "发热", "absent")])
    pdf = write_report(tmp_path / "m.pdf", rec)
    out = _text(pdf)
    assert "血压<140/90 & 心率>100" in out
    assert "尚未分析" not in out  # no tongue section without photo or findings


def test_highlighted_markup_colours_and_escapes():
    rec = StructuredRecord("x", "a<b 无发热", [FoundEntity(5, 7, "SYMPTOM", "发热", "absent")])
    m = highlighted_markup(rec.text, rec.entities)
    assert m == 'a&lt;b 无<span backColor="#ffd6d6"><strike>发热</strike></span>'


@needs_poppler
def test_page_renders(tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm missing")
    pdf = write_report(tmp_path / "r.pdf", sample_record("r1"), clinic="诊所")
    subprocess.run(["pdftoppm", "-png", "-r", "30", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    pngs = list(tmp_path.glob("p*.png"))
    assert pngs and pngs[0].stat().st_size > 1000


def _traditional_record() -> StructuredRecord:
    text = "主訴：胃脘脹痛半年。\n問診：食慾：不好，口渴：無。\n處方：乾薑6g。"
    ents = []
    for word, label, assertion in (("胃脘脹痛", "SYMPTOM", "present"), ("食慾：不好", "SYMPTOM", "present"),
                                   ("口渴：無", "SYMPTOM", "absent"), ("乾薑", "HERB", "present")):
        s = text.index(word)
        ents.append(FoundEntity(s, s + len(word), label, word, assertion))
    return StructuredRecord("hk1", text, ents)


@needs_poppler
def test_traditional_record_gets_traditional_headings_and_template_findings(tmp_path):
    out = _text(write_report(tmp_path / "t.pdf", _traditional_record(), date=dt.date(2024, 3, 18)))
    for needle in ("中醫病歷結構化報告", "病歷原文", "結構化信息", "醫師", "食慾：不好", "口渴：無"):
        assert needle in out, needle
    assert "病历原文" not in out
    row = next(line for line in out.splitlines() if line.strip().startswith("症狀"))
    assert row.index("口渴：無") > row.index("食慾：不好")  # the negated template finding is in the 否定 column
    simplified = _text(write_report(tmp_path / "s.pdf", sample_record("r1"), date=dt.date(2024, 3, 18)))
    assert "病历原文" in simplified and "病歷原文" not in simplified
    forced = _text(write_report(tmp_path / "f.pdf", sample_record("r1"), script="traditional"))
    assert "病歷原文" in forced and "胃脘胀痛" in forced  # headings converted, the record text never
def _engine_tongue() -> dict:
    """A tongue result in the shape the tongue engine emits (``tongue/engine.py``)."""
    return {"id": "p", "ok": True, "message": None, "reason": None, "not_assessed": ["thickness"],
            "attributes": {"body_colour": {"value": "regular", "score": 0.91},
                           "coating_colour": {"value": "yellow", "score": 0.8},
                           "fissure": {"value": "light", "score": 0.7},
                           "tooth_marks": {"value": "severe", "score": 0.66}}}


@needs_poppler
def test_tongue_section_reads_the_keys_the_engine_emits(tmp_path):
    rec = sample_record("t1")
    rec.tongue = _engine_tongue()  # as ``structure --image`` stores it
    text = _text(write_report(tmp_path / "t.pdf", rec))
    for needle in ("舌色", "淡红", "苔色", "黄", "裂纹", "有裂纹", "齿痕", "齿痕明显", "未评估", "苔质厚薄"):
        assert needle in text, needle
    assert "attributes" not in text and "body_colour" not in text


@needs_poppler
def test_characters_the_main_font_lacks_reach_the_pdf(tmp_path):
    from tcm_desktop.records.report_pdf import FALLBACK, main_font_chars

    assert 0x3FE0 not in main_font_chars()  # 㿠 (CJK Extension A): the reason for the fallback font
    text = "主诉：面色㿠白，神疲乏力。"
    s = text.index("㿠白")
    rec = StructuredRecord("f", text, [FoundEntity(s - 2, s + 2, "SIGN", "面色㿠白")])
    pdf = write_report(tmp_path / "f.pdf", rec)
    assert "面色㿠白" in _text(pdf)
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert FALLBACK in fonts


def test_every_character_of_the_team_records_and_lexicons_has_a_glyph():
    from tcm_desktop.config import resources_dir
    from tcm_desktop.records.report_pdf import missing_chars

    chars: set[str] = set()
    for folder in ("annotated", "lexicon"):
        for f in (resources_dir() / folder).rglob("*"):
            if f.is_file() and f.suffix in (".txt", ".tsv", ".json", ".jsonl"):
                chars |= set(f.read_text(encoding="utf-8"))
    assert len(chars) > 1000
    printable = "".join(c for c in chars if c.isprintable())
    assert missing_chars(printable) == set()
