"""GUI faults: a locked database during save, a damaged database at start, bad photos, history with versions and audit."""

from __future__ import annotations

import io
import os
import sqlite3
import struct
import time
import zlib

import pytest
from desktop_samples import SAMPLE_TEXT, FakeEngine
from PySide6.QtCore import QSettings

import tcm_desktop.ui  # noqa: F401  (applies the None-refcount guard before Qt is used)
from tcm_desktop.records import backup as bk
from tcm_desktop.records.database import Database
from tcm_desktop.ui.app import open_database_or_ask
from tcm_desktop.ui.history_dialog import HistoryDialog
from tcm_desktop.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, tmp_path):
    db = Database(tmp_path / "ui.sqlite3", busy_timeout_s=0.2)
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    eng = FakeEngine()
    w = MainWindow(lambda: eng, db, settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.engine is not None, timeout=20000)
    yield w
    w.pool.shutdown()
    db.close()


def test_locked_database_during_save_keeps_the_window_responsive_and_saves_later(qtbot, window):
    window.editor.setPlainText(SAMPLE_TEXT)
    window.patient.setText("王小明")
    holder = sqlite3.connect(window.db.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    t0 = time.monotonic()
    assert window.save() is None
    assert time.monotonic() - t0 < 1.0  # the UI thread waited at most the short busy timeout
    assert window.banner.isVisible() and "占用" in window.banner.text()
    assert window.save_retry_timer.isActive()
    ticks = []
    window.editor.textChanged.connect(lambda: ticks.append(1))
    window.editor.insertPlainText("。")  # the window still takes input while the save waits
    assert ticks
    holder.execute("ROLLBACK")
    holder.close()
    qtbot.waitUntil(lambda: window.record_id is not None, timeout=5000)  # the retry went through
    assert not window.save_retry_timer.isActive() and not window.banner.isVisible()
    h = window.db.history("王小明")
    assert len(h) == 1 and h[0].record_id == window.record_id


def _damage(path, how):
    if how == "random":
        path.write_bytes(os.urandom(12000))
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:3000])
    else:
        data = bytearray(path.read_bytes())
        page = int.from_bytes(data[16:18], "big")
        last = len(data) // page - 1
        data[last * page : last * page + 64] = os.urandom(64)
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["random", "truncated", "page"])
def test_damaged_database_at_start_offers_backup_and_keeps_the_file(qtbot, tmp_path, how):
    p = tmp_path / "tcm.sqlite3"
    with Database(p) as d:
        for i in range(30):
            d.save_record(__import__("desktop_samples").sample_record(f"r{i}", SAMPLE_TEXT * 3))
        d.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    bk.rotate_backups(p)
    _damage(p, how)
    asked = []

    def ask(message, path, latest):
        asked.append((message, latest))
        return "restore", None

    no_passphrase = lambda message: None  # noqa: E731 - a header-less file could be encrypted: the doctor cancels
    db = open_database_or_ask(p, ask=ask, ask_passphrase=no_passphrase)
    assert db is not None and asked and "damaged" in asked[0][0] and asked[0][1] is not None
    assert db.record_exists("r29")  # restored from the backup
    db.close()
    kept = list(tmp_path.glob("tcm.sqlite3.damaged-*")) + list((tmp_path / "backups").glob("tcm-replaced-*"))
    assert kept  # the damaged file was kept, not deleted

    _damage(p, how)
    db = open_database_or_ask(p, ask=lambda *a: ("new", None), ask_passphrase=no_passphrase)
    assert db is not None and db.history() == []
    db.close()
    assert len(list(tmp_path.glob("tcm.sqlite3.damaged-*"))) >= 1
    assert open_database_or_ask(tmp_path / "x" / "new.sqlite3", ask=lambda *a: ("quit", None),
                                ask_passphrase=no_passphrase) is not None


def test_damaged_dialog_buttons(qtbot, tmp_path):
    from tcm_desktop.ui.damaged_dialog import DamagedDialog

    dlg = DamagedDialog("database x is damaged", tmp_path / "x.sqlite3", None)
    qtbot.addWidget(dlg)
    assert not dlg.restore_btn.isEnabled()  # no backup to restore
    assert "不会删除" in dlg.text()


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` x ``height`` pixels (an image bomb's header; no real pixel data)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def _jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (200, 160), (200, 100, 100)).save(buf, "JPEG")
    return buf.getvalue()


@pytest.mark.parametrize("data, why", [
    (_png_header(100_000, 100_000), "too large"),
    (_jpeg()[:300], "not an image"),  # truncated JPEG: refused or shown, never a crash
    (b"", "empty"),
    ("主诉：这不是图片".encode(), "not an image"),
])
def test_bad_photos_through_the_gui_path(qtbot, window, tmp_path, data, why, monkeypatch):
    decoded = []
    from PySide6.QtGui import QImage

    real = QImage.fromData

    def spy(*a, **k):
        decoded.append(1)
        return real(*a, **k)

    monkeypatch.setattr(QImage, "fromData", staticmethod(spy))
    panel = window.tongue_panel
    t0 = time.monotonic()
    ok = panel.set_photo(data, name="bad.jpg")
    assert time.monotonic() - t0 < 2
    if why == "too large" or why == "empty":
        assert not ok and not decoded  # refused from the header, before Qt decodes anything
        assert why.split()[0] in panel.camera_status.text() or "无法读取" in panel.camera_status.text()
    if not ok:
        assert panel.photo_bytes is None and "无法读取" in panel.camera_status.text()
    window.editor.setPlainText(SAMPLE_TEXT)
    assert window.save() is not None  # a refused photo never blocks saving the record


def test_photo_files_go_through_the_same_guard(qtbot, window, tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_header(100_000, 100_000))
    text = tmp_path / "note.jpg"
    text.write_text("不是图片", encoding="utf-8")
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    for f in (bomb, text, empty):
        assert not window.tongue_panel.load_file(f)
        assert "无法读取" in window.tongue_panel.camera_status.text()
    assert window.tongue_panel.photo_bytes is None


def test_history_dialog_shows_versions_and_audit(qtbot, window):
    window.editor.setPlainText(SAMPLE_TEXT)
    rid, _ = window.save()
    window.db.save_record(window.db.load_record(rid), user="李医生",
                          actions=[{"action": "relabel", "before": {"label": "SYMPTOM"}, "after": {"label": "SIGN"}}])
    dlg = HistoryDialog(window.db, window)
    qtbot.addWidget(dlg)
    dlg.table.setCurrentCell(0, 0)
    html = dlg.details.toPlainText()
    assert "第 1 版" in html and "第 2 版" in html and "relabel" in html and "李医生" in html


def test_history_dialog_deletes_a_record_completely(qtbot, window):
    window.editor.setPlainText(SAMPLE_TEXT)
    rid, _ = window.save()
    window.db.save_draft(rid, SAMPLE_TEXT + "草稿")
    dlg = HistoryDialog(window.db, window)
    qtbot.addWidget(dlg)
    dlg.table.setCurrentCell(0, 0)
    assert dlg.delete_selected(confirm=False)
    assert dlg.deleted == [rid] and dlg.table.rowCount() == 0
    assert not window.db.record_exists(rid) and window.db.load_draft(rid) is None
