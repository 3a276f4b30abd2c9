"""The desktop GUI end to end (pytest-qt, offscreen): analyse, review, undo, save, reopen, export, workers.

The engine is injected through the window's engine factory: a scripted fake
(``desktop_samples.FakeEngine``) for timing/failure control, and the real
engine on the tiny model when ``tests/conftest.py`` provides ``tiny_model_dir``.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from desktop_samples import SAMPLE_TEXT, FakeEngine, FrameCamera  # noqa: E402
from PySide6.QtCore import QEvent, QSettings, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QContextMenuEvent, QFont, QImage, QKeyEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QMenu  # noqa: E402

import tcm_desktop.ui  # noqa: E402,F401  (applies the None-refcount guard before Qt is used)
from tcm_desktop.records.database import Database  # noqa: E402
from tcm_desktop.schema import CATEGORY_BY_CODE  # noqa: E402
from tcm_desktop.ui.history_dialog import HistoryDialog  # noqa: E402
from tcm_desktop.ui.main_window import MainWindow  # noqa: E402


@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "ui.sqlite3")
    yield d
    d.close()


@pytest.fixture
def settings(tmp_path):
    s = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    s.setValue("user/doctor", "李医生")
    s.setValue("user/clinic", "仁心中医诊所")
    return s


@pytest.fixture
def make_window(qtbot, db, settings):
    windows: list[MainWindow] = []

    def make(engine=None, factory=None, wait_model=True, **kw) -> MainWindow:
        eng = engine or FakeEngine()
        w = MainWindow(factory or (lambda: eng), db, settings, **kw)
        w.ask_unsaved = lambda: "discard"  # tests that exercise the guard set their own answer
        qtbot.addWidget(w)
        w.show()
        windows.append(w)
        if wait_model:
            qtbot.waitUntil(lambda: w.engine is not None, timeout=20000)
        return w

    yield make
    for w in windows:
        w.pool.shutdown()


def _analyse(qtbot, w: MainWindow, text: str = SAMPLE_TEXT) -> None:
    w.editor.setPlainText(text)
    qtbot.keyClick(w.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert w.analysing
    qtbot.waitUntil(lambda: not w.analysing, timeout=20000)


def _type(widget, text: str) -> None:
    """Type Chinese text as key events carrying text (QTest.keyClicks only handles ASCII)."""
    for ch in text:
        QApplication.sendEvent(widget, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, ch))


def _index(w: MainWindow, text: str) -> int:
    return next(i for i, e in enumerate(w.controller.state.entities) if e.text == text)


def _open_menu_and(qtbot, w: MainWindow, index: int, pick) -> None:
    """Right-click an entity in the editor; ``pick(menu)`` runs while the real popup is open."""
    pos = w.editor.entity_rect(index)
    done: list[bool] = []

    def act() -> None:
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu) and menu.objectName() == "entityMenu"
        pick(menu)
        done.append(True)
        menu.close()

    QTimer.singleShot(50, act)
    ev = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, w.editor.viewport().mapToGlobal(pos))
    QApplication.sendEvent(w.editor.viewport(), ev)
    assert done == [True]


def _selection_for(w: MainWindow, index: int):
    e = w.controller.state.entities[index]
    for sel in w.editor.extraSelections():
        if sel.cursor.selectedText() == e.text and w.editor._map.to_py(sel.cursor.selectionStart()) == e.start:
            return sel
    raise AssertionError(f"no highlight for {e.text}")


def test_startup_is_fast_and_model_loads_in_background(qtbot, db, settings):
    loaded = threading.Event()
    main_thread = threading.current_thread()
    seen_thread: list[threading.Thread] = []

    def slow_factory():
        seen_thread.append(threading.current_thread())
        time.sleep(0.8)
        loaded.set()
        return FakeEngine()

    t0 = time.perf_counter()
    w = MainWindow(slow_factory, db, settings)
    qtbot.addWidget(w)
    w.show()
    assert time.perf_counter() - t0 < 2.0
    assert w.engine is None and not w.act_analyse.isEnabled()
    assert "加载" in w.model_label.text()
    qtbot.waitUntil(lambda: w.engine is not None, timeout=10000)
    assert seen_thread and seen_thread[0] is not main_thread
    assert w.act_analyse.isEnabled() and "fake-1" in w.model_label.text()
    w.pool.shutdown()


def test_main_flow_analyse_relabel_add_undo_save_reopen_pdf(qtbot, make_window, db, tmp_path):
    w = make_window()
    _analyse(qtbot, w)
    ents = w.controller.state.entities
    assert len(ents) == 31
    assert len(w.editor.extraSelections()) == len(ents)
    i = _index(w, "嗳气")
    sel = _selection_for(w, i)
    assert sel.format.background().color().name() == CATEGORY_BY_CODE["SYMPTOM"].colour
    # the side list mirrors the entities
    assert w.entity_list.item_for(i).text(0) == "嗳气"

    # right-click 嗳气 -> category -> 体征 (SIGN)
    def relabel(menu: QMenu) -> None:
        cats = menu.findChild(QMenu, "categoryMenu")
        act = next(a for a in cats.actions() if a.data() == "SIGN")
        assert act.text().startswith("&2")  # the schema's key is the mnemonic
        act.trigger()

    _open_menu_and(qtbot, w, i, relabel)
    i = _index(w, "嗳气")
    e = w.controller.state.entities[i]
    assert (e.label, e.status) == ("SIGN", "corrected")
    sel = _selection_for(w, i)
    assert sel.format.background().color().name() != CATEGORY_BY_CODE["SYMPTOM"].colour
    assert sel.format.fontUnderline()
    assert w.entity_list.item_for(i).parent().text(0).startswith("体征")

    # select 反复 and press Alt+1 -> a new SYMPTOM, shown italic
    s = SAMPLE_TEXT.index("反复")
    w.editor.select_py(s, s + 2)
    qtbot.keyClick(w.editor, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    added = _index(w, "反复")
    assert w.controller.state.entities[added].status == "added"
    assert _selection_for(w, added).format.fontItalic()
    assert len(w.controller.state.entities) == 32

    # undo the add; redo/undo again; the relabel stays
    w.act_undo.trigger()
    assert all(e.text != "反复" for e in w.controller.state.entities)
    w.act_redo.trigger()
    assert any(e.text == "反复" for e in w.controller.state.entities)
    w.act_undo.trigger()
    assert len(w.controller.state.entities) == 31
    assert w.controller.state.entities[_index(w, "嗳气")].label == "SIGN"

    w.patient.setText("王小明")
    rid, version = w.save()
    assert version == 1 and w.windowTitle().startswith(rid[:8])
    actions = [a.action for a in db.actions(rid)]
    assert actions[:3] == ["analyse", "relabel", "add"] and "undo_add" in actions

    w.new_record()
    assert w.editor.text() == "" and not w.controller.state.entities

    dlg = HistoryDialog(db, w)
    qtbot.addWidget(dlg)
    dlg.search.setText("嗳气")
    dlg.refresh()
    assert [h.record_id for h in dlg.entries] == [rid]
    dlg.open_selected()
    assert dlg.chosen_record_id == rid
    w.open_record(dlg.chosen_record_id)
    assert w.editor.text() == SAMPLE_TEXT and w.patient.text() == "王小明"
    reopened = w.controller.state.entities
    assert len(reopened) == 31 and reopened[_index(w, "嗳气")].label == "SIGN"
    assert len(w.editor.extraSelections()) == 31

    pdf = w.export_pdf(tmp_path / "out.pdf")
    assert pdf and pdf.exists()
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "嗳气" in text and "仁心中医诊所" in text and "李医生" in text
    js = w.export_json(tmp_path / "out.json")
    assert '"SIGN"' in js.read_text(encoding="utf-8")
    assert w.export_csv(tmp_path / "out.csv").exists()


def test_ui_thread_never_blocks_while_analysing(qtbot, make_window):
    engine = FakeEngine(delay=1.0)
    w = make_window(engine)
    ticks: list[float] = []
    hb = QTimer()
    hb.setInterval(10)
    hb.timeout.connect(lambda: ticks.append(time.perf_counter()))
    hb.start()
    qtbot.wait(50)
    w.editor.setPlainText(SAMPLE_TEXT)
    assert w.analyse()
    qtbot.waitUntil(lambda: not w.analysing, timeout=10000)
    qtbot.wait(50)
    hb.stop()
    gaps = [b - a for a, b in zip(ticks, ticks[1:], strict=False)]
    assert len(ticks) > 20  # the heartbeat kept ticking through the 1 s analysis (analysing on the UI thread would stop it for 1 s)
    assert max(gaps) < 0.5, f"UI thread blocked for {max(gaps) * 1000:.0f} ms"
    assert engine.threads and engine.threads[0] != threading.current_thread().name
    assert len(w.controller.state.entities) == 31


def test_cancel_discards_result(qtbot, make_window):
    w = make_window(FakeEngine(delay=0.5))
    w.editor.setPlainText(SAMPLE_TEXT)
    assert w.analyse()
    assert w.act_cancel.isEnabled() and not w.act_analyse.isEnabled()
    assert not w.analyse()  # no second analysis while one runs
    w.act_cancel.trigger()
    assert "取消" in w.statusBar().currentMessage()
    qtbot.waitUntil(lambda: not w.analysing, timeout=5000)
    qtbot.wait(50)
    assert w.controller.state.entities == []
    assert w.act_analyse.isEnabled() and not w.act_cancel.isEnabled()


def test_engine_error_is_shown(qtbot, make_window):
    w = make_window(FakeEngine(fail="模型推理失败：张量形状不符"))
    _analyse(qtbot, w)
    assert w.banner.isVisible() and "张量形状不符" in w.banner.text()
    assert w.controller.state.entities == []
    assert w.act_analyse.isEnabled()


def test_model_load_error_is_shown_and_analyse_disabled(qtbot, make_window):
    def broken():
        raise RuntimeError("model directory models/ner is missing")

    w = make_window(factory=broken, wait_model=False)
    qtbot.waitUntil(lambda: w.engine_error is not None, timeout=5000)
    assert w.banner.isVisible() and "models/ner is missing" in w.banner.text()
    assert not w.act_analyse.isEnabled()
    w.editor.setPlainText("头痛")
    assert not w.analyse()


def test_keyboard_review(qtbot, make_window):
    w = make_window()
    _analyse(qtbot, w)
    ed = w.editor
    qtbot.keyClick(ed, Qt.Key.Key_Tab)
    assert w.controller.current == 0
    qtbot.keyClick(ed, Qt.Key.Key_Tab)
    assert w.controller.current == 1
    qtbot.keyClick(ed, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert w.controller.current == 0
    assert ed.toPlainText() == SAMPLE_TEXT  # Tab did not insert a tab character
    first = w.controller.state.entities[0]
    assert first.text == "胃脘胀痛"
    qtbot.keyClick(ed, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)  # widen left -> 复胃脘胀痛
    assert w.controller.state.entities[0].text == "复胃脘胀痛"
    qtbot.keyClick(ed, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ShiftModifier)
    assert w.controller.state.entities[0].text == "胃脘胀痛"
    assert w.controller.state.entities[0].status == "corrected"
    qtbot.keyClick(ed, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    assert w.controller.state.entities[0].assertion == "absent"
    assert _selection_for(w, 0).format.fontStrikeOut()
    qtbot.keyClick(ed, Qt.Key.Key_Tab)  # -> 3年
    qtbot.keyClick(ed, Qt.Key.Key_Return, Qt.KeyboardModifier.AltModifier)
    assert w.controller.state.entities[1].status == "accepted"
    assert _selection_for(w, 1).format.fontWeight() == QFont.Weight.Bold
    assert w.controller.current == 2  # moved on to the next unreviewed
    n = len(w.controller.state.entities)
    qtbot.keyClick(ed, Qt.Key.Key_Delete, Qt.KeyboardModifier.AltModifier)
    assert len(w.controller.state.entities) == n - 1
    qtbot.keyClick(ed, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)  # relabel current as TIME
    assert w.controller.state.entities[w.controller.current].label == "TIME"
    w.act_accept_all.trigger()
    assert w.controller.state.counts()["unreviewed"] == 0
    assert ed.toPlainText() == SAMPLE_TEXT


def test_entity_list_selection_syncs_with_editor(qtbot, make_window):
    w = make_window()
    _analyse(qtbot, w)
    i = _index(w, "苔薄白")
    w.entity_list.item_for(i).setSelected(True)
    assert w.controller.current == i
    cursor = w.editor.textCursor()
    assert w.editor._map.to_py(cursor.position()) == SAMPLE_TEXT.index("苔薄白")
    w.controller.set_current(_index(w, "柴胡"))
    assert w.entity_list.selectedItems()[0].text(0) == "柴胡"
    # clicking on an entity in the editor makes it current
    j = _index(w, "纳差")
    qtbot.mouseClick(w.editor.viewport(), Qt.MouseButton.LeftButton, pos=w.editor.entity_rect(j))
    assert w.controller.current == j
    assert w.entity_list.selectedItems()[0].text(0) == "纳差"


def test_editing_text_shifts_and_drops_entities(qtbot, make_window):
    w = make_window()
    _analyse(qtbot, w)
    before = [(e.text, e.start) for e in w.controller.state.entities]
    c = w.editor.textCursor()
    c.setPosition(0)
    w.editor.setTextCursor(c)
    _type(w.editor, "初诊")
    st = w.controller.state
    assert st.text == w.editor.toPlainText() == "初诊" + SAMPLE_TEXT
    assert [(e.text, e.start - 2) for e in st.entities] == before
    for e in st.entities:
        assert st.text[e.start:e.end] == e.text
    # type inside 嗳气: only that entity goes
    pos = st.text.index("嗳气") + 1
    c = w.editor.textCursor()
    c.setPosition(pos)
    w.editor.setTextCursor(c)
    _type(w.editor, "频")
    assert "嗳频气" in w.controller.state.text
    texts = [e.text for e in w.controller.state.entities]
    assert "嗳气" not in texts and "纳差" in texts and len(texts) == 30
    assert "1" in w.statusBar().currentMessage()
    for e in w.controller.state.entities:
        assert w.controller.state.text[e.start:e.end] == e.text
    assert len(w.editor.extraSelections()) == 30


def test_astral_characters_keep_highlights_aligned(qtbot, make_window):
    w = make_window()
    text = "😀𠮷主诉：嗳气，无反酸。"
    _analyse(qtbot, w, text)
    ents = w.controller.state.entities
    assert [e.text for e in ents] == ["嗳气", "反酸"]
    for i in range(len(ents)):
        sel = _selection_for(w, i)
        assert sel.cursor.selectedText() == ents[i].text
    w.editor.select_py(text.index("主诉"), text.index("主诉") + 2)
    qtbot.keyClick(w.editor, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    e = w.controller.state.entities[0]
    assert (e.text, e.label, e.start) == ("主诉", "CAUSE", 2)


def test_autosave_draft_and_restore(qtbot, make_window, db):
    w = make_window(autosave_ms=30)
    w.editor.setPlainText("主诉：头痛两天")
    qtbot.waitUntil(lambda: db.load_draft("unsaved") is not None, timeout=3000)
    assert db.load_draft("unsaved")[0] == "主诉：头痛两天"
    w.autosave_timer.stop()  # the app crashes here: no close, no question
    w2 = make_window()
    assert w2.editor.toPlainText() == "主诉：头痛两天"
    assert w2.banner.isVisible() and "未保存" in w2.banner.text()
    w2.save()
    assert db.load_draft("unsaved") is None


def test_batch_import_with_progress_and_cancel(qtbot, make_window, db, tmp_path):
    folder = tmp_path / "batch"
    folder.mkdir()
    (folder / "a.txt").write_text("主诉：嗳气", encoding="utf-8")
    (folder / "b.txt").write_text("无反酸", encoding="utf-8")
    (folder / "c.jsonl").write_text('{"id": "c1", "text": "纳差"}\n\n{"id": "c2", "text": "嗳气，纳差"}\n',
                                    encoding="utf-8")
    (folder / "ignored.md").write_text("x", encoding="utf-8")
    w = make_window()
    dlg = w.make_batch_dialog()
    qtbot.addWidget(dlg)
    dlg.folder.setText(str(folder))
    assert dlg.start()
    qtbot.waitUntil(lambda: dlg.summary is not None and not dlg.running, timeout=10000)
    assert dlg.summary["total"] == 4 and len(dlg.summary["saved"]) == 4
    assert dlg.progress.value() == 4
    assert {h.external_id for h in db.history()} == {"a", "b", "c1", "c2"}  # internal ids are fresh UUIDs
    assert db.load_record(db.find_records("c2")[0]).entities

    again = w.make_batch_dialog()  # the same folder again: every record is already there, nothing is added
    qtbot.addWidget(again)
    again.folder.setText(str(folder))
    assert again.start()
    qtbot.waitUntil(lambda: again.summary is not None and not again.running, timeout=10000)
    assert again.summary["saved"] == [] and len(again.summary["unchanged"]) == 4
    assert len(db.history()) == 4

    slow = FakeEngine(delay=0.3)
    dlg2 = w.make_batch_dialog()
    dlg2.engine = slow
    qtbot.addWidget(dlg2)
    dlg2.folder.setText(str(folder))
    assert dlg2.start()
    qtbot.waitUntil(lambda: slow.calls >= 1, timeout=5000)
    dlg2.cancel_btn.click()
    qtbot.waitUntil(lambda: not dlg2.running, timeout=5000)
    assert dlg2.summary is not None, dlg2.status.text()
    assert dlg2.summary["cancelled"] and len(dlg2.summary["saved"]) + len(dlg2.summary["unchanged"]) < 4
    assert "取消" in dlg2.status.text()
    assert "MainThread" not in slow.threads  # the batch ran on a worker thread

    dlg3 = w.make_batch_dialog()
    qtbot.addWidget(dlg3)
    dlg3.folder.setText(str(tmp_path / "nope"))
    assert not dlg3.start() and "不存在" in dlg3.status.text()


def test_batch_import_names_bad_lines_and_files_and_imports_the_rest(qtbot, make_window, db, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "gbk.txt").write_bytes("主诉：头痛".encode("gbk"))
    (folder / "ok.txt").write_text("主诉：咳嗽", encoding="utf-8")
    (folder / "m.jsonl").write_text('{"id": "m1", "text": "纳差"}\nnot json\n{"id": "m3", "text": ""}\n'
                                    '{"id": "m4", "text": "嗳气"}\n', encoding="utf-8")
    w = make_window()
    dlg = w.make_batch_dialog()
    qtbot.addWidget(dlg)
    dlg.folder.setText(str(folder))
    assert dlg.start()
    qtbot.waitUntil(lambda: dlg.summary is not None and not dlg.running, timeout=10000)
    assert sorted(h.external_id for h in db.history()) == ["m1", "m4", "ok"]
    log = dlg.log.toPlainText()  # one line per file or line, saying what happened and why
    assert "gbk.txt" in log and "not valid UTF-8" in log and "m.jsonl:2" in log and "not JSON" in log
    assert "m.jsonl:3" in log and "empty text" in log
    assert "错误 3 处" in dlg.status.text() or "3 error" in dlg.status.text()


class _NoCamera:
    def __init__(self, device: int) -> None:
        self.device = device

    def isOpened(self) -> bool:
        return False

    def release(self) -> None:
        pass


class _FakeCamera(FrameCamera):
    def __init__(self, device: int) -> None:
        import numpy as np

        super().__init__(device)
        self.frame = np.zeros((48, 64, 3), dtype=np.uint8)
        self.frame[:, :, 2] = 200  # red in BGR


def test_camera_absent_shows_message(qtbot, make_window):
    w = make_window(capture_factory=_NoCamera)
    panel = w.tongue_panel
    assert "尚无照片" in panel.analysis_label.text()
    panel.camera_btn.click()
    qtbot.waitUntil(lambda: not panel.camera_running, timeout=5000)
    assert "未检测到" in panel.camera_status.text()
    assert panel.photo_bytes is None and panel.camera_btn.isEnabled()


def test_camera_preview_capture_and_save_photo(qtbot, make_window, db):
    w = make_window(capture_factory=_FakeCamera)
    panel = w.tongue_panel
    panel.camera_btn.click()
    qtbot.waitUntil(lambda: panel.capture_btn.isEnabled(), timeout=5000)
    assert not panel.image.pixmap().isNull()
    assert panel.capture()
    qtbot.waitUntil(lambda: not panel.camera_running, timeout=5000)
    img = QImage.fromData(panel.photo_bytes)
    assert (img.width(), img.height()) == (64, 48) and img.pixelColor(5, 5).red() > 150
    # the captured frame is analysed like any photo (a plain red frame: no tongue, or no model at all)
    qtbot.waitUntil(lambda: not panel.analysing, timeout=20000)
    assert panel.state in ("done", "unavailable") and not panel.findings.isVisible()
    w.editor.setPlainText("舌淡红")
    rid, _ = w.save()
    assert len(db.record_photos(rid)) == 1
    w.new_record()
    assert panel.photo_bytes is None
    w.open_record(rid)
    assert panel.photo_bytes is not None


def test_photo_from_file_and_paste(qtbot, make_window, tmp_path):
    w = make_window()
    panel = w.tongue_panel
    img = QImage(40, 30, QImage.Format.Format_RGB32)
    img.fill(Qt.GlobalColor.red)
    p = tmp_path / "t.png"
    img.save(str(p))
    assert panel.load_file(p)
    assert panel.photo_bytes == p.read_bytes()
    assert not panel.load_file(tmp_path / "missing.png")
    (tmp_path / "bad.png").write_bytes(b"nope")
    assert not panel.load_file(tmp_path / "bad.png")
    panel.clear_photo()
    QApplication.clipboard().setImage(img)
    panel.paste()
    assert panel.photo_bytes is not None


def test_english_translation_is_available(qtbot):
    from tcm_desktop.ui.i18n import category_name, install_language, t

    try:
        assert install_language("en")
        assert t("分析") == "Analyse"
        assert t("历史记录") == "History"
        assert category_name("SYMPTOM") == "symptom"
    finally:
        install_language("zh")
    assert t("分析") == "分析" and category_name("SYMPTOM") == "症状"


def _ui_strings(ui: Path) -> set[str]:
    """Every literal passed to t(...) / self._action(...) and the undo-command names in the UI package."""
    import ast

    out: set[str] = set()
    core = ui.parent / "review_state.py"  # the core's refusals are translated by the UI (ReviewError templates)
    for py in [*ui.rglob("*.py"), core]:
        for node in ast.walk(ast.parse(py.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
                f = node.func
                name = f.id if isinstance(f, ast.Name) else (f.attr if isinstance(f, ast.Attribute) else "")
                if name in ("t", "_action", "ReviewError") and isinstance(node.args[0].value, str):
                    out.add(node.args[0].value)
                if name in ("_tr", "_menu") and len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                    out.add(node.args[1].value)
            if isinstance(node, ast.Assign) and any(getattr(tg, "id", "") in ("ACTION_NAMES", "REASONS", "OUTCOMES",
                                                                            "STATE_NAMES") for tg in node.targets):
                out |= {v.value for v in node.value.values}
    return out


def test_every_ui_string_has_an_english_translation():
    import xml.etree.ElementTree as ET

    ui = Path(__file__).resolve().parents[1] / "tcm_desktop" / "ui"
    used = _ui_strings(ui)
    assert "分析" in used and "更改类别" in used and len(used) > 50
    root = ET.parse(ui / "translations" / "tcm_en.ts").getroot()
    translated = {m.findtext("source"): m.findtext("translation") for m in root.iter("message")}
    missing = sorted(s for s in used if not translated.get(s))
    assert not missing, missing
    qm = ui / "translations" / "tcm_en.qm"
    assert qm.exists() and qm.stat().st_mtime >= (ui / "translations" / "tcm_en.ts").stat().st_mtime - 1


def test_real_engine_main_flow_if_tiny_model(qtbot, request, db, settings, tmp_path):
    """With the lead's tiny real model: load in the background, analyse, review, save, reopen."""
    try:
        model_dir = request.getfixturevalue("tiny_model_dir")
    except pytest.FixtureLookupError:
        pytest.skip("tests/conftest.py has no tiny_model_dir fixture yet")
    from tcm_desktop.text.engine import StructuringEngine

    w = MainWindow(lambda: StructuringEngine(model_dir), db, settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.engine is not None or w.engine_error is not None, timeout=60000)
    assert w.engine is not None, w.engine_error
    _analyse(qtbot, w)
    assert not w.banner.isVisible()
    ents = w.controller.state.entities
    for e in ents:
        assert SAMPLE_TEXT[e.start:e.end] == e.text
    assert len(w.editor.extraSelections()) == len(ents)
    s = SAMPLE_TEXT.index("反复")
    if all(not (e.start < s + 2 and s < e.end) for e in ents):
        w.editor.select_py(s, s + 2)
        qtbot.keyClick(w.editor, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    rid, _ = w.save()
    w.new_record()
    w.open_record(rid)
    assert [e.to_dict() for e in w.controller.state.entities] == [e.to_dict() for e in db.load_record(rid).entities]
    assert w.export_pdf(tmp_path / "real.pdf").exists()
    w.pool.shutdown()


def test_self_test_passes_with_engine_and_fails_without(qtbot, monkeypatch, capsys):
    import tcm_desktop.ui.app as app_mod

    monkeypatch.setattr(app_mod, "default_engine_factory", lambda: FakeEngine())
    assert app_mod.main(["--self-test"]) == 0
    assert "self-test ok" in capsys.readouterr().out

    def missing():
        raise RuntimeError("model directory not found: models/ner")

    monkeypatch.setattr(app_mod, "default_engine_factory", missing)
    assert app_mod.self_test() == 1
    assert "models/ner" in capsys.readouterr().err
