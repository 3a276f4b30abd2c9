"""The app lock (pytest-qt, offscreen): idle time hides the record, only the passphrase unlocks; start-up prompts."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from desktop_samples import SAMPLE_TEXT, FakeEngine  # noqa: E402
from PySide6.QtCore import QPoint, QSettings, Qt  # noqa: E402
from PySide6.QtWidgets import QDialog  # noqa: E402

import tcm_desktop.ui  # noqa: E402,F401
from tcm_desktop.records import encryption  # noqa: E402
from tcm_desktop.records.database import Database  # noqa: E402
from tcm_desktop.ui.lock import LOCK_MINUTES_KEY, EncryptionOffer, offer_encryption, open_database  # noqa: E402
from tcm_desktop.ui.main_window import MainWindow  # noqa: E402

PASS = "lock-test passphrase"


pytestmark = pytest.mark.usefixtures("fresh_passphrases")


@pytest.fixture
def settings(tmp_path):
    s = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    s.setValue(LOCK_MINUTES_KEY, 0.01)  # 600 ms
    return s


def _window(qtbot, db, settings) -> MainWindow:
    eng = FakeEngine()
    w = MainWindow(lambda: eng, db, settings, load_model=False)
    qtbot.addWidget(w)
    w.show()
    return w


def test_idle_locks_hides_record_and_only_the_passphrase_unlocks(qtbot, tmp_path, settings):
    db = Database(tmp_path / "enc.sqlite3", passphrase=PASS)
    w = _window(qtbot, db, settings)
    try:
        assert w.app_lock is not None
        w.editor.setPlainText(SAMPLE_TEXT)
        qtbot.waitUntil(lambda: w.app_lock.is_locked, timeout=5000)
        screen = w.app_lock.screen
        assert screen.isVisible() and not w.centralWidget().isVisible()
        assert not w.act_pdf.isEnabled() and not w.act_json.isEnabled() and not w.act_history.isEnabled()
        assert screen.geometry() == w.rect()
        assert "已锁定" in w.windowTitle() or "Locked" in w.windowTitle()

        qtbot.keyClicks(screen.passphrase, "wrong")
        qtbot.keyClick(screen.passphrase, Qt.Key.Key_Return)
        assert w.app_lock.is_locked and screen.error.text() and screen.passphrase.text() == ""

        qtbot.keyClicks(screen.passphrase, PASS)
        qtbot.mouseClick(screen.button, Qt.MouseButton.LeftButton)
        assert not w.app_lock.is_locked
        assert w.centralWidget().isVisible() and w.act_pdf.isEnabled() and w.act_history.isEnabled()
        assert w.editor.text() == SAMPLE_TEXT  # nothing lost while locked
    finally:
        w.close()
        w.pool.shutdown()
        db.close()


def test_user_input_keeps_the_window_unlocked(qtbot, tmp_path, settings):
    db = Database(tmp_path / "enc.sqlite3", passphrase=PASS)
    w = _window(qtbot, db, settings)
    try:
        for i in range(10):  # 10 x 150 ms of activity: longer than the 600 ms timeout
            qtbot.mouseMove(w.editor, QPoint(10 + i, 10 + i))
            qtbot.keyClick(w.editor, Qt.Key.Key_Right)
            qtbot.wait(150)
            assert not w.app_lock.is_locked
        qtbot.waitUntil(lambda: w.app_lock.is_locked, timeout=5000)  # and idle time still locks afterwards
    finally:
        w.close()
        w.pool.shutdown()
        db.close()


def test_open_dialogs_are_closed_when_locking(qtbot, tmp_path, settings):
    settings.setValue(LOCK_MINUTES_KEY, 0)  # never by itself; locked by hand below
    db = Database(tmp_path / "enc.sqlite3", passphrase=PASS)
    w = _window(qtbot, db, settings)
    try:
        dlg = QDialog(w)
        dlg.show()
        w.app_lock.lock()
        assert not dlg.isVisible() and w.app_lock.is_locked
        assert not w.app_lock.watcher.timer.isActive()
    finally:
        w.close()
        w.pool.shutdown()
        db.close()


def test_plain_database_has_no_lock(qtbot, tmp_path, settings):
    db = Database(tmp_path / "plain.sqlite3")
    w = _window(qtbot, db, settings)
    try:
        assert w.app_lock is None
    finally:
        w.close()
        w.pool.shutdown()
        db.close()


def test_start_prompt_retries_a_wrong_passphrase_and_cancel_opens_nothing(tmp_path):
    path = tmp_path / "enc.sqlite3"
    Database(path, passphrase=PASS).close()
    encryption.forget_passphrases()
    answers, messages = iter(["nope", PASS]), []

    def ask(message):
        messages.append(message)
        return next(answers)

    db = open_database(path, ask)
    assert db is not None and db.record_exists("x") is False
    db.close()
    assert len(messages) == 2 and messages[0] != messages[1]  # the second one says the first was wrong
    encryption.forget_passphrases()
    assert open_database(path, lambda m: None) is None
    assert open_database(tmp_path / "plain.sqlite3", lambda m: pytest.fail("a plain file needs no prompt")) is not None


class _Filled(EncryptionOffer):
    def __init__(self, first: str, second: str) -> None:
        super().__init__()
        self.first.setText(first)
        self.second.setText(second)

    def exec(self) -> int:  # what a user clicking "加密" does, without a modal loop
        self._accept()
        return int(self.result())


def test_first_start_offers_encryption_once(qtbot, tmp_path, settings):
    path = tmp_path / "new.sqlite3"
    short = _Filled("short", "short")
    qtbot.addWidget(short)
    assert offer_encryption(path, settings, short) is None and short.error.text()  # too short: not accepted
    settings.remove("security/encryption_offered")
    good = _Filled(PASS, PASS)
    qtbot.addWidget(good)
    assert offer_encryption(path, settings, good) == PASS
    assert offer_encryption(path, settings, _Filled(PASS, PASS)) is None  # offered once only
    Database(path, passphrase=PASS).close()
    assert encryption.is_encrypted(path)


def test_deidentified_export_from_the_app(qtbot, tmp_path, settings):
    import json

    from tcm_desktop.records.deidentify import check_offsets
    from tcm_desktop.structured import StructuredRecord

    db = Database(tmp_path / "plain.sqlite3")
    w = _window(qtbot, db, settings)
    try:
        w.patient.setText("王秀英")
        w.editor.setPlainText("王秀英，女，62岁，电话13912345678。\n" + SAMPLE_TEXT)
        out = w.export_deidentified_json(tmp_path / "deid.json")
        data = json.loads(out.read_text(encoding="utf-8"))
        assert "王秀英" not in out.read_text(encoding="utf-8") and "13912345678" not in data["text"]
        assert data["text"].startswith("[姓名]，女，62岁，电话[电话]。") and SAMPLE_TEXT in data["text"]
        assert check_offsets(StructuredRecord.from_dict(data)) == []
    finally:
        w.close()
        w.pool.shutdown()
        db.close()
