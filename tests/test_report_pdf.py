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
                       tongue={"tongue_colour": "淡红"}, date=dt.date(2024, 3, 18))
    text = _text(pdf)
    for needle in ("仁心中医诊所", "王小明", "2024-03-18", "李医生", "签名", "胃脘胀痛", "柴胡疏肝散",
                   "处方", "炙甘草", "甘草", "10g", "舌象", "淡红", "否定", "高血压 [既往]"):
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
