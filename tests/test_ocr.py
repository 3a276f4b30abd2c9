"""Records on paper: reading pages offline, safety checks, PDFs, lexicon-aware corrections, the CLI."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from tcm_desktop.ocr import correction as corr
from tcm_desktop.ocr.metrics import cer, edit_distance, squeeze
from tcm_desktop.ocr.reader import OcrDocument, OcrError, estimate_skew, load_images, read_document, read_image, rotate
from tcm_desktop.ocr.synthetic import Distortion, render_page, render_text
from tcm_desktop.text.lexicon import Lexicon

PAGE_TEXT = "主诉：胃脘胀痛三天，纳差。\n舌脉：舌淡苔白腻，脉弦滑。\n处方：枳壳10g，陈皮6g，茯苓15g。"




@pytest.fixture(scope="module")
def photographed_page(tmp_path_factory) -> tuple[str, str]:
    img, kept = render_page(PAGE_TEXT, Distortion(font_px=34, rotation=2.5, perspective=0.01, light=0.2, blur=0.5, jpeg_quality=70), seed=1)
    path = tmp_path_factory.mktemp("paper") / "page.jpg"
    img.save(path, quality=90)
    return str(path), kept


@pytest.mark.slow
def test_rendered_page_end_to_end(photographed_page) -> None:
    path, kept = photographed_page
    doc = read_document(path)
    assert len(doc.pages) == 1
    assert abs(doc.pages[0].angle + 2.5) <= 1.0  # deskewed back
    assert cer(doc.text, kept) < 0.05
    assert doc.text.count("\n") == 2  # three lines in reading order
    assert doc.text.index("主诉") < doc.text.index("舌脉") < doc.text.index("处方")
    assert 0.8 < doc.mean_confidence <= 1.0 and doc.readable
    # every character has a box inside the page, and the box maps back to the character
    start = doc.text.index("舌脉")
    (page, box), = doc.boxes(start, start + 1)
    h, w = doc.pages[0].image.shape[:2]
    assert 0 <= box[0] < box[2] <= w and 0 <= box[1] < box[3] <= h
    assert doc.offset_at(page, (box[0] + box[2]) / 2, (box[1] + box[3]) / 2) == start


def test_blank_page_says_so(tmp_path) -> None:
    path = tmp_path / "blank.png"
    Image.new("RGB", (1240, 1754), "white").save(path)
    with pytest.raises(OcrError, match="no text was found"):
        read_document(path)


@pytest.mark.parametrize("payload", [b"\x89PNG\r\n\x1a\n" + b"\0" * 200, b"not an image at all", b"%PDF-1.4 garbage"])
def test_corrupt_file_is_one_sentence(tmp_path, payload) -> None:
    path = tmp_path / "scan.png"
    path.write_bytes(payload)
    with pytest.raises(OcrError) as err:
        load_images(path)
    msg = str(err.value)
    assert msg.startswith("scan.png: not a readable") and "\n" not in msg


def test_truncated_jpeg_and_empty_file(tmp_path) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (400, 400), "white").save(buf, "JPEG")
    (tmp_path / "cut.jpg").write_bytes(buf.getvalue()[:300])
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(OcrError, match="not a readable image"):
        load_images(tmp_path / "cut.jpg")
    with pytest.raises(OcrError, match="empty"):
        load_images(tmp_path / "empty.png")


def test_image_bomb_rejected_before_decoding(tmp_path) -> None:
    path = tmp_path / "bomb.png"
    Image.new("1", (9000, 9000)).save(path)  # a few kB on disk, 81 million pixels
    assert path.stat().st_size < 100_000
    with pytest.raises(OcrError, match="million can be read"):
        load_images(path)


def test_deskew_finds_the_rotation() -> None:
    page, _ = render_text(PAGE_TEXT * 3, font_px=30)
    tilted = rotate(np.asarray(page), 3.0)
    assert abs(estimate_skew(tilted) + 3.0) <= 0.5
    assert abs(estimate_skew(np.asarray(page))) <= 0.3


def test_twenty_page_pdf(tmp_path) -> None:
    """A PDF made by software: its own text layer is read (exact, no OCR), boxes on the rendered page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from tcm_desktop.config import cjk_font_path

    pdfmetrics.registerFont(TTFont("WQY", str(cjk_font_path()), subfontIndex=0))
    path = tmp_path / "records.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    for i in range(20):
        c.setFont("WQY", 16)
        c.drawString(72, 760, f"第{i + 1}页 主诉：头痛{i + 1}天。")
        c.showPage()
    c.save()
    seen = []
    doc = read_document(path, progress=lambda done, total: seen.append((done, total)))
    assert len(doc.pages) == 20 and seen[-1] == (20, 20)
    lines = doc.text.split("\n")
    assert len(lines) == 20
    for i, line in enumerate(lines):
        assert f"第{i + 1}页" in line and "头痛" in line
    assert doc.mean_confidence == 1.0 and not doc.low_confidence_offsets()
    # characters map back to their own page, inside the rendered image, where the text was drawn
    off = doc.text.index("第20页")
    (page, (x0, y0, x1, y1)), = doc.boxes(off, off + 1)
    assert page == 19
    h, w = doc.pages[19].image.shape[:2]
    # drawn at x = 72 pt, baseline y = 760 pt of an 842 pt page, 16 pt font: 150 dpi pixels from the top
    assert abs(x0 - 150) <= 3 and (842 - 776) * 150 / 72 <= y0 < y1 <= (842 - 755) * 150 / 72 and y1 < h and x1 < w
    ink = doc.pages[19].image[y0:y1, x0:x1].min()
    assert ink < 100  # the box holds dark pixels of the glyph


@pytest.mark.slow
def test_scanned_pdf_is_recognised(tmp_path) -> None:
    """A PDF of page images (a scanner's output) has no text layer: each page is OCR'd."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(path), pagesize=(595, 842))
    for text in ("主诉：头痛三天。", "处方：枳壳10g。"):
        page, _ = render_text(text, font_px=36)
        c.drawImage(ImageReader(page), 0, 0, 595, 842)
        c.showPage()
    c.save()
    doc = read_document(path)
    assert len(doc.pages) == 2 and doc.mean_confidence < 1.0
    assert squeeze(doc.text) in ("主诉：头痛三天。处方：枳壳10g。", "主诉：头痛三天。处方：积壳10g。")


def test_pdf_with_too_many_pages_is_refused(tmp_path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "big.pdf"
    c = canvas.Canvas(str(path))
    for _ in range(51):
        c.showPage()
    c.save()
    with pytest.raises(OcrError, match="at most 50"):
        load_images(path)


# ---------------------------------------------------------------- corrections

LEXICON = Lexicon({"SYMPTOM": ["胃脘胀痛", "胃脘痛", "纳差"], "HERB": ["枳壳", "陈皮"], "TCM_WORD": ["医院", "院内"]})
TABLE = {"皖": {"脘": 0.947, "院": 0.969}, "积": {"枳": 0.968}, "院": {"脘": 0.95}, "陈": {"阵": 0.9}}


def _confs(text: str, low: dict[int, float]) -> list[float]:
    return [low.get(i, 0.99) for i in range(len(text))]


def test_known_slips_are_proposed_and_undone() -> None:
    text = "主诉：胃皖胀痛三天。处方：积壳10g"
    c = corr.Corrector(LEXICON, TABLE)
    props = c.propose(text, _confs(text, {4: 0.62, 13: 0.47}))
    assert [(p.start, p.before, p.after, p.category) for p in props] == [(3, "胃皖胀痛", "胃脘胀痛", "SYMPTOM"), (13, "积壳", "枳壳", "HERB")]
    assert "皖" in props[0].reason and "0.62" in props[0].reason and "症状" in props[0].reason
    assert props[1].changes[0].offset == 13 and props[1].changes[0].confidence == 0.47
    fixed = corr.apply(text, props)
    assert fixed == "主诉：胃脘胀痛三天。处方：枳壳10g" and len(fixed) == len(text)
    corr.undo(props, 0)
    assert corr.apply(text, props) == "主诉：胃皖胀痛三天。处方：枳壳10g"
    corr.redo(props, 0)
    assert corr.apply(text, props) == fixed
    assert json.loads(json.dumps(props[0].to_dict(), ensure_ascii=False))["after"] == "胃脘胀痛"


def test_confident_or_real_words_are_left_alone() -> None:
    c = corr.Corrector(LEXICON, TABLE)
    text = "胃皖胀痛，积壳"
    assert c.propose(text, _confs(text, {})) == []  # read with high confidence: nothing changed
    text = "在医院内"
    assert c.propose(text, _confs(text, {2: 0.3})) == []  # 院 already inside a lexicon word
    lex = Lexicon({"BODY_PART": ["舌腺"]})
    text = "舌脉：舌淡"  # a section heading one look-alike away from a lexicon word
    assert corr.Corrector(lex, {"脉": {"腺": 0.95}}).propose(text, _confs(text, {1: 0.3})) == []
    text = "皖南"  # a low-confidence look-alike with no lexicon term around it
    assert c.propose(text, _confs(text, {0: 0.3})) == []


def test_edit_distance() -> None:
    assert edit_distance("胃皖胀痛", "胃脘胀痛") == 1 and edit_distance("", "ab") == 2 and edit_distance("abc", "abc") == 0
    assert cer("胃 皖\n痛", "胃脘痛") == 1 / 3


def test_two_slips_in_one_term() -> None:
    lex = Lexicon({"HERB": ["枳壳"], "SYMPTOM": ["胃脘胀痛"]})
    table = {"积": {"枳": 0.97}, "売": {"壳": 0.9}}
    text = "积売"
    props = corr.Corrector(lex, table).propose(text, [0.5, 0.6])
    assert len(props) == 1 and props[0].after == "枳壳" and len(props[0].changes) == 2
    assert corr.Corrector(lex, table).propose(text, [0.5, 0.99]) == []  # the second slip is confident: no proposal


def test_shipped_table_and_lexicon_catch_the_reported_slips() -> None:
    c = corr.Corrector.from_model()
    text = "胃皖胀痛，积壳10g"
    props = c.propose(text, _confs(text, {1: 0.6, 5: 0.5}))
    assert [p.after for p in props] == ["胃脘胀痛", "枳壳"]


def test_document_text_offsets_track_characters() -> None:
    page, _ = render_text("舌淡苔白", font_px=40)
    ocr = read_image(np.asarray(page), deskew=False)
    doc = OcrDocument.from_pages("x", [ocr])
    assert squeeze(doc.text) == "舌淡苔白"
    assert len(doc.positions) == len(doc.text) == len(doc.confidences())


# ---------------------------------------------------------------- command line


@pytest.mark.slow
def test_cli_structure_ocr(photographed_page, tmp_path) -> None:
    from tcm_desktop.cli import main

    path, _ = photographed_page
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"garbage")
    out, err = io.StringIO(), io.StringIO()
    rc = main(["structure", "--ocr", path, str(bad)], stdout=out, stderr=err)
    assert rc == 1  # the bad input makes the exit status 1; the good one is still structured
    assert err.getvalue().strip() == "error: broken.png: not a readable image or PDF (UnidentifiedImageError)"
    rec = json.loads(out.getvalue())
    assert rec["id"] == "page"
    assert set(rec["ocr"]) >= {"pages", "mean_confidence", "corrections"} and rec["ocr"]["pages"] == 1
    labels = {(e["label"], e["text"]) for e in rec["entities"]}
    assert ("HERB", "枳壳") in labels and ("PULSE", "脉弦滑") in labels


def test_cli_ocr_pdf_with_text_layer(tmp_path) -> None:
    """A software-made PDF through ``structure --ocr``: its own text, nothing to correct, the record saved."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from tcm_desktop.cli import main
    from tcm_desktop.config import cjk_font_path
    from tcm_desktop.records.database import Database

    pdfmetrics.registerFont(TTFont("WQY", str(cjk_font_path()), subfontIndex=0))
    path = tmp_path / "referral.pdf"
    c = canvas.Canvas(str(path))
    c.setFont("WQY", 14)
    c.drawString(72, 760, "主诉：胃脘胀痛三天。")
    c.drawString(72, 740, "处方：枳壳10g，陈皮6g。")
    c.save()
    out, err = io.StringIO(), io.StringIO()
    assert main(["structure", "--ocr", "--no-correct", str(path), "--db", str(tmp_path / "r.sqlite3")], stdout=out, stderr=err) == 0
    assert err.getvalue() == ""
    rec = json.loads(out.getvalue())
    assert rec["id"] == "referral" and rec["ocr"]["pages"] == 1 and rec["ocr"]["mean_confidence"] == 1.0
    assert rec["ocr"]["corrections"] == [] and rec["ocr"]["readable"] is True
    assert ("HERB", "枳壳") in {(e["label"], e["text"]) for e in rec["entities"]}
    db = Database(tmp_path / "r.sqlite3")
    try:
        rid = next(h.record_id for h in db.history() if h.external_id == "referral")  # identity: file + id
        assert db.load_record(rid).text == "主诉：胃脘胀痛三天。\n处方：枳壳10g，陈皮6g。"
        (page,) = db.record_pages(rid)  # the page is stored with the record, as a page, not a tongue photo
        assert page.page == 1 and db.record_photos(rid) == []
        from tcm_desktop.ocr.storage import document_from_pages

        assert document_from_pages([page]).text == db.load_record(rid).text
    finally:
        db.close()


def test_recogniser_runs_with_the_measured_settings() -> None:
    """The settings docs/ocr.md measured are the ones in force: detection on a copy at most 1280 px long,
    threads that do not spin, one line per recognition run, the line classifier kept."""
    from tcm_desktop.ocr.reader import DEFAULT_SETTINGS, _engine

    eng = _engine()
    assert eng.settings == DEFAULT_SETTINGS and DEFAULT_SETTINGS.use_cls
    assert eng.ocr.text_rec.rec_batch_num == 1
    det = eng.ocr.text_det
    pre = det.get_preprocess(1868)
    assert (pre.limit_side_len, pre.limit_type) == (1280, "max")
    scaled = pre(np.zeros((1868, 1400, 3), np.uint8))
    assert max(scaled.shape[2:]) <= 1280 + 32
    for session in (det.infer.session, eng.ocr.text_rec.session.session):
        opts = session.get_session_options()
        assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
        assert opts.intra_op_num_threads <= 2
