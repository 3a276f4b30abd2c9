"""The tongue panel wired to the tongue engine (pytest-qt, offscreen), with the shipped model and real photos.

Photos: BioHit 10.jpg (body pale, coating light yellow, both > 0.95 with the shipped
model) and a Seg741 photo (coating white, body dark/red), from the shared data.
The record side uses the scripted text engine (``desktop_samples.FakeEngine``),
whose lexicon marks 舌淡红 (TONGUE), 苔薄白 (COATING) and 脉弦细 (PULSE).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading  # noqa: E402
from pathlib import Path  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from desktop_samples import FakeEngine  # noqa: E402
from PIL import Image  # noqa: E402
from PySide6.QtCore import QByteArray, QSettings, Qt  # noqa: E402
from PySide6.QtGui import QColor, QImage  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

import tcm_desktop.ui  # noqa: E402,F401  (applies the None-refcount guard before Qt is used)
from tcm_desktop.artifacts import ModelError  # noqa: E402
from tcm_desktop.records.database import Database  # noqa: E402
from tcm_desktop.structured import FoundEntity, StructuredRecord  # noqa: E402
from tcm_desktop.tongue.engine import get_engine, model_available  # noqa: E402
from tcm_desktop.ui.main_window import MainWindow  # noqa: E402
from tcm_desktop.ui.tongue.panel import TonguePanel, image_to_png  # noqa: E402
from tcm_desktop.ui.workers import WorkerPool  # noqa: E402

pytestmark = pytest.mark.skipif(not model_available(), reason="the shipped tongue model (models/tongue) is missing")

TIMEOUT = 30000


@pytest.fixture(scope="module")
def photos(shared_data) -> dict[str, Path]:
    d = shared_data / "tongue"
    out = {"pale_yellow": d / "biohit300" / "images" / "10.jpg",
           "dark_white": d / "ianmackenzie_seg741" / "images" / "2018101001_0.jpg",
           "pale_yellow_mask": d / "biohit300" / "masks" / "10.png"}
    for p in out.values():
        if not p.exists():
            pytest.skip(f"shared tongue photo missing: {p}")
    return out


@pytest.fixture
def panel(qtbot):
    pool = WorkerPool()
    made: list[TonguePanel] = []

    def make(**kw) -> TonguePanel:
        p = TonguePanel(pool, **kw)
        p.resize(480, 760)
        qtbot.addWidget(p)
        p.show()
        made.append(p)
        return p

    yield make
    pool.shutdown()


@pytest.fixture
def window(qtbot, tmp_path):
    db = Database(tmp_path / "ui.sqlite3")
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    eng = FakeEngine()
    w = MainWindow(lambda: eng, db, settings)
    w.ask_unsaved = lambda: "discard"  # no save/discard question when the test closes the window
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.engine is not None, timeout=TIMEOUT)
    w.tabs.setCurrentWidget(w.tongue_panel)
    yield w
    w.pool.shutdown()
    db.close()


def _wait_done(qtbot, p: TonguePanel) -> None:
    qtbot.waitUntil(lambda: p.photo_bytes is not None and not p.analysing, timeout=TIMEOUT)


def _analyse_text(qtbot, w: MainWindow, text: str) -> None:
    w.editor.setPlainText(text)
    assert w.analyse()
    qtbot.waitUntil(lambda: not w.analysing, timeout=TIMEOUT)


def _png(colour: tuple[int, int, int], size=(320, 240)) -> bytes:
    img = QImage(size[0], size[1], QImage.Format.Format_RGB32)
    img.fill(QColor(*colour))
    return image_to_png(img)


def _rgb(img: QImage, x: int, y: int) -> np.ndarray:
    c = img.pixelColor(x, y)
    return np.array([c.red(), c.green(), c.blue()], float)


def test_photo_shows_findings_and_outline(qtbot, panel, photos):
    p = panel()
    assert p.load_file(photos["pale_yellow"])
    assert p.analysing and "正在分析" in p.analysis_label.text()
    _wait_done(qtbot, p)
    assert p.state == "done" and p.result["ok"] and p.result["id"] == "10"
    attrs = p.result["attributes"]
    assert attrs["body_colour"]["value"] == "light" and attrs["coating_colour"]["value"] == "light_yellow"
    assert "舌象分析结果" in p.analysis_label.text()

    # findings: Chinese + English label, Chinese value + class, score; the three unassessed attributes
    html = p.findings.text()
    assert p.findings.isVisible()
    assert "苔色" in html and "coating colour" in html and "淡黄" in html and "light_yellow" in html
    assert f"{attrs['coating_colour']['score']:.2f}" in html
    assert html.count("未评估") == 3 and "thickness" in html and "greasiness" in html and "moisture" in html

    # the mask is the tongue (against the photo's manual mask) and the outline is drawn over it
    gt = np.array(Image.open(photos["pale_yellow_mask"])).astype(bool)
    assert p.mask is not None and p.mask.shape == gt.shape
    iou = (p.mask & gt).sum() / (p.mask | gt).sum()
    assert iou > 0.8, iou
    plain, over = p.photo_image, p.overlay_image
    assert over is not None and (over.width(), over.height()) == (plain.width(), plain.height())
    assert plain.width() == 320 and gt.shape == (240, 320)
    m8 = p.mask.astype(np.uint8)
    k = np.ones((9, 9), np.uint8)
    core, ring = cv2.erode(m8, k).astype(bool), ~cv2.dilate(m8, k).astype(bool)

    def sample(region: np.ndarray, n: int = 300) -> list[tuple[int, int]]:
        ys, xs = np.nonzero(region)
        step = max(1, len(xs) // n)
        return [(int(x), int(y)) for x, y in zip(xs[::step], ys[::step])]

    # the outline is drawn along the mask's contour
    contour = sample(m8.astype(bool) & ~cv2.erode(m8, np.ones((3, 3), np.uint8)).astype(bool))
    green = [_rgb(over, x, y) for x, y in contour]
    assert np.mean([g[1] > 180 and g[1] > g[0] + 60 and g[1] > g[2] + 30 for g in green]) > 0.9
    # inside the tongue the photo keeps its true colours; outside it is dimmed
    assert all(np.abs(_rgb(over, x, y) - _rgb(plain, x, y)).sum() <= 3 for x, y in sample(core))
    out_pts = sample(ring)
    assert np.mean([_rgb(over, x, y).sum() < _rgb(plain, x, y).sum() - 20 for x, y in out_pts]) > 0.9
    # what is on screen is the overlay, not the plain photo: compare at the brightest pixel outside the tongue
    shown = p.image.pixmap().toImage()
    assert shown.width() > 100
    bx, by = max(out_pts, key=lambda q: _rgb(plain, *q).sum())
    sx, sy = bx * shown.width() // plain.width(), by * shown.height() // plain.height()
    d_over = np.abs(_rgb(shown, sx, sy) - _rgb(over, bx, by)).sum()
    d_plain = np.abs(_rgb(shown, sx, sy) - _rgb(plain, bx, by)).sum()
    assert d_over < d_plain, (d_over, d_plain)

    # no record entities: the suggested text is offered
    assert p.suggested_text.startswith("舌淡，") and p.suggested_text.endswith("苔淡黄")
    assert p.insert_btn.isVisible() and p.insert_btn.isEnabled() and p.suggested_text in p.suggestion.text()


def test_record_disagreement_is_flagged_and_follows_entities(qtbot, window, photos, tmp_path):
    w = window
    p = w.tongue_panel
    assert p.load_file(photos["pale_yellow"])
    _wait_done(qtbot, p)
    assert not p.flags.isVisible() and p.insert_btn.isVisible()  # nothing in the record yet

    _analyse_text(qtbot, w, "主诉：胃脘胀痛3年。\n舌脉：舌淡红，苔薄白，脉弦细。")
    labels = {e.text: e.label for e in w.controller.state.entities}
    assert labels["舌淡红"] == "TONGUE" and labels["苔薄白"] == "COATING"
    assert p.flags.isVisible() and not p.insert_btn.isVisible()
    flags = p.disagreements
    assert any(f.startswith("舌色不一致") and "舌淡红" in f for f in flags), flags
    assert any(f.startswith("苔色不一致") and "苔薄白" in f for f in flags), flags
    assert "舌色不一致" in p.flags.text() and "苔色不一致" in p.flags.text()

    # what is saved/exported with the record carries the result and the flags
    rec = w.current_record()
    assert rec.tongue["attributes"]["coating_colour"]["value"] == "light_yellow"
    assert rec.tongue["disagreements"] == flags
    rid, _ = w.save()
    sha = w.db.record_photos(rid)[0]
    assert w.db.photo_analysis(sha)["disagreements"] == flags
    version = w.db.db.execute("SELECT model_version FROM photo_analyses WHERE sha256 = ?", [sha]).fetchone()[0]
    assert version.startswith("tongue-") and version == p.model_version
    assert w.export_pdf(tmp_path / "r.pdf").exists()
    out = w.export_json(tmp_path / "r.json").read_text(encoding="utf-8")
    assert "light_yellow" in out and "舌色不一致" in out

    # the entities change (the doctor deletes the tongue/coating entities): flags go, the suggestion comes back
    for label in ("TONGUE", "COATING"):
        i = next(k for k, e in enumerate(w.controller.state.entities) if e.label == label)
        assert w.controller.delete(i)
    assert not p.flags.isVisible() and p.insert_btn.isVisible() and p.disagreements == []
    w.controller.undo_stack.undo()  # COATING back: its disagreement is flagged again
    assert p.flags.isVisible() and any(f.startswith("苔色不一致") for f in p.disagreements)
    assert not any(f.startswith("舌色不一致") for f in p.disagreements)


def test_agreeing_record_has_no_flag(qtbot, window, photos):
    w = window
    p = w.tongue_panel
    text = "舌脉：舌暗红，苔薄白。"
    ents = [FoundEntity(3, 6, "TONGUE", "舌暗红", "present", 0.9), FoundEntity(7, 10, "COATING", "苔薄白", "present", 0.9)]
    w.editor.set_text(text)
    w.controller.load(StructuredRecord("", text, ents))
    assert p.load_file(photos["dark_white"])
    _wait_done(qtbot, p)
    attrs = p.result["attributes"]
    assert attrs["coating_colour"]["value"] == "white" and attrs["body_colour"]["value"] == "dark"
    assert p.disagreements == []
    assert p.flags.isVisible() and "未发现" in p.flags.text() and not p.insert_btn.isVisible()


def test_insert_suggested_text_then_undo(qtbot, window, photos):
    w = window
    p = w.tongue_panel
    original = "主诉：胃脘胀痛3年。\n舌脉：脉弦细。"
    _analyse_text(qtbot, w, original)
    before = [(e.label, e.text) for e in w.controller.state.entities]
    assert ("PULSE", "脉弦细") in before and not any(lab in ("TONGUE", "COATING") for lab, _ in before)
    assert p.load_file(photos["pale_yellow"])
    _wait_done(qtbot, p)
    suggested = p.suggested_text
    assert suggested.startswith("舌淡") and p.insert_btn.isEnabled()
    w.setWindowTitle("x")

    qtbot.mouseClick(p.insert_btn, Qt.MouseButton.LeftButton)
    # no cursor placed by the doctor: right after the 舌脉 heading, separated from 脉弦细 by "，"
    expected = "主诉：胃脘胀痛3年。\n舌脉：" + suggested + "，脉弦细。"
    assert w.editor.text() == expected
    ents = w.controller.state.entities
    assert [(e.label, e.text) for e in ents] == before  # nothing dropped ...
    assert all(expected[e.start:e.end] == e.text for e in ents)  # ... and offsets shifted
    assert w.windowTitle().startswith("*")
    assert not p.insert_btn.isEnabled()  # already in the record

    qtbot.keyClick(w.editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the record's one undo history
    assert w.editor.text() == original
    assert all(original[e.start:e.end] == e.text for e in w.controller.state.entities)
    assert p.insert_btn.isEnabled()

    # with the cursor placed at the end of the record: appended on a new line
    c = w.editor.textCursor()
    c.movePosition(c.MoveOperation.End)
    w.editor.setTextCursor(c)
    assert w.insert_tongue_text(suggested)
    assert w.editor.text() == original + "\n" + suggested


def test_non_tongue_images_show_the_quality_message(qtbot, panel):
    p = panel()
    assert p.set_photo(_png((128, 128, 128)))
    _wait_done(qtbot, p)
    assert p.result["ok"] is False and p.result["reason"] == "grayscale"
    assert "黑白照片" in p.analysis_label.text() and "质量检查" in p.analysis_label.text()
    assert not p.findings.isVisible() and "未评估" not in p.findings.text()
    assert not p.insert_btn.isVisible() and not p.flags.isVisible()
    assert p.overlay_image is None and QApplication.activeModalWidget() is None
    assert p.analysis["ok"] is False  # the refusal is what is stored with the record

    assert p.set_photo(_png((200, 30, 30)))
    _wait_done(qtbot, p)
    assert p.result["reason"] == "no_tongue" and "未找到舌头" in p.analysis_label.text()
    assert not p.findings.isVisible()


class _GatedEngine:
    """The real engine, but the analysis of one chosen photo waits until the test releases it."""

    def __init__(self, slow: bytes) -> None:
        self.real = get_engine()
        self.slow = slow
        self.started, self.release, self.returned = threading.Event(), threading.Event(), threading.Event()

    def analyse_bytes(self, data: bytes, image_id: str = "photo"):
        if data == self.slow:
            self.started.set()
            self.release.wait(20)
            try:
                return self.real.analyse_bytes(data, image_id)
            finally:
                self.returned.set()
        return self.real.analyse_bytes(data, image_id)


def test_stale_result_of_an_earlier_photo_is_ignored(qtbot, panel, photos):
    first = photos["pale_yellow"].read_bytes()
    eng = _GatedEngine(first)
    p = panel(engine_factory=lambda: eng)
    assert p.set_photo(first)
    qtbot.waitUntil(eng.started.is_set, timeout=TIMEOUT)
    assert p.load_file(photos["dark_white"])  # replaces the photo while the first analysis is running
    _wait_done(qtbot, p)
    assert p.result["id"] == "2018101001_0" and p.result["attributes"]["coating_colour"]["value"] == "white"

    eng.release.set()
    qtbot.waitUntil(eng.returned.is_set, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not p.pool.running and not p.pool._jobs, timeout=TIMEOUT)  # every queued signal delivered
    assert p.result["id"] == "2018101001_0" and p.result["attributes"]["coating_colour"]["value"] == "white"
    assert p.photo_bytes == photos["dark_white"].read_bytes() and p.state == "done"

    # a result that does arrive for an older generation (already emitted when the photo changed) is dropped too
    stale = {"generation": p.session.generation - 1, "analysis": get_engine().analyse_bytes(first, "old"), "error": None}
    p._on_tongue_result(stale)
    assert p.result["id"] == "2018101001_0"


def test_missing_or_broken_model_is_said_and_the_app_keeps_working(qtbot, panel, window, photos, monkeypatch):
    def broken():
        raise ModelError("tongue model directory not found: /nowhere")

    p = panel(engine_factory=broken)
    assert p.load_file(photos["pale_yellow"])
    _wait_done(qtbot, p)
    assert p.state == "failed" and "无法加载" in p.analysis_label.text() and "/nowhere" in p.analysis_label.text()
    assert p.photo_bytes is not None and p.analysis is None and not p.findings.isVisible()

    import tcm_desktop.tongue.engine as tongue_engine

    monkeypatch.setattr(tongue_engine, "model_available", lambda model_dir=None: False)
    w = window
    assert w.tongue_panel.load_file(photos["pale_yellow"])
    assert w.tongue_panel.state == "unavailable" and "未安装舌象模型" in w.tongue_panel.analysis_label.text()
    _analyse_text(qtbot, w, "舌脉：舌淡红，苔薄白，脉弦细。")  # the record side is unaffected
    assert len(w.controller.state.entities) == 3
    rid, _ = w.save()
    assert len(w.db.record_photos(rid)) == 1


def test_reopened_record_shows_saved_analysis_then_reanalyses(qtbot, window, photos):
    w = window
    p = w.tongue_panel
    _analyse_text(qtbot, w, "舌脉：舌淡红，苔薄白。")
    assert p.load_file(photos["pale_yellow"])
    _wait_done(qtbot, p)
    rid, _ = w.save()
    w.new_record()
    assert p.photo_bytes is None and "尚无照片" in p.analysis_label.text()
    w.open_record(rid)
    assert p.result is not None and p.result["attributes"]["body_colour"]["value"] == "light"  # saved, at once
    _wait_done(qtbot, p)
    assert p.overlay_image is not None and len(p.disagreements) == 2


def test_english_panel(qtbot, panel, photos):
    from tcm_desktop.ui.i18n import install_language

    try:
        assert install_language("en")
        p = panel()
        assert p.load_file(photos["pale_yellow"])
        _wait_done(qtbot, p)
        html = p.findings.text()
        assert "Coating colour" in html and "light yellow" in html and "not assessed" in html
        assert "苔色" not in html
        assert p.insert_btn.text() == "Insert into record"
    finally:
        install_language("zh")


def test_image_bytes_roundtrip_helpers():
    """The photo bytes the panel analyses decode to the same pixels Qt shows."""
    data = _png((10, 200, 30), (64, 48))
    img = QImage.fromData(QByteArray(data))
    assert (img.width(), img.height()) == (64, 48)
    from tcm_desktop.tongue.imageio import load_image_bytes

    loaded = load_image_bytes(data)
    assert loaded.rgb.shape == (48, 64, 3) and tuple(loaded.rgb[5, 5]) == (10, 200, 30)
    assert load_image_bytes(b"").rgb is None and load_image_bytes(b"nope").message
