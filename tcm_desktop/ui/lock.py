"""App lock and passphrase prompts for an encrypted record database.

* :class:`IdleWatcher` is an event filter on the QApplication: any key, click,
  wheel or touch restarts a timer; when it runs out (``security/lock_minutes``
  in QSettings, 0 = never) it emits ``idle``.
* :class:`AppLock` then hides the record: the central widget is hidden, every
  action (menus, toolbar, shortcuts such as Ctrl+P) is disabled, open dialogs
  are closed, and a :class:`LockScreen` covering the window asks for the
  database passphrase; only the right one unlocks.
* :func:`open_database` asks for the passphrase of an encrypted database at
  start (retrying on a wrong one) and :func:`offer_encryption` offers to
  encrypt a new database at first start.

The lock only runs with an encrypted database: its passphrase is the only
secret the app has to check against.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tcm_desktop.records import encryption
from tcm_desktop.records.database import Database
from tcm_desktop.ui.i18n import t

LOCK_MINUTES_KEY = "security/lock_minutes"
DEFAULT_LOCK_MINUTES = 10
OFFERED_KEY = "security/encryption_offered"
MIN_PASSPHRASE = 8

_USER_INPUT = {
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel,
    QEvent.Type.TouchBegin, QEvent.Type.TabletPress,
}


def lock_minutes(settings: QSettings) -> float:
    """Idle minutes before the lock (0 = never), from Settings."""
    try:
        return max(0.0, float(settings.value(LOCK_MINUTES_KEY, DEFAULT_LOCK_MINUTES)))
    except (TypeError, ValueError):
        return float(DEFAULT_LOCK_MINUTES)


class IdleWatcher(QObject):
    """Emits ``idle`` after ``timeout_ms`` without user input anywhere in the application."""

    idle = Signal()

    def __init__(self, timeout_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.idle)
        self.set_timeout(timeout_ms)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def set_timeout(self, timeout_ms: int) -> None:
        self.timer.stop()
        self.timer.setInterval(max(0, int(timeout_ms)))
        if timeout_ms > 0:
            self.timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() in _USER_INPUT and self.timer.interval() > 0:
            self.timer.start()
        return False

    def stop(self) -> None:
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)


class LockScreen(QWidget):
    """What a locked window shows: no record, a passphrase field, an unlock button."""

    unlockRequested = Signal(str)  # noqa: N815 - Qt signal naming

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("lockScreen")
        self.setAutoFillBackground(True)
        lay = QVBoxLayout(self)
        lay.addStretch(1)
        title = QLabel(t("已锁定：输入数据库口令以继续"))
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.passphrase = QLineEdit()
        self.passphrase.setObjectName("lockPassphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setMaximumWidth(320)
        self.error = QLabel("")
        self.error.setObjectName("lockError")
        self.error.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.button = QPushButton(t("解锁"))
        self.button.setObjectName("lockUnlock")
        for w in (title, self.passphrase, self.button, self.error):
            lay.addWidget(w, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addStretch(2)
        self.button.clicked.connect(self._submit)
        self.passphrase.returnPressed.connect(self._submit)

    def _submit(self) -> None:
        self.unlockRequested.emit(self.passphrase.text())


class AppLock(QObject):
    """Locks ``window`` after idle time; ``check(passphrase)`` says whether a passphrase unlocks it."""

    locked = Signal()
    unlocked = Signal()

    def __init__(self, window: QMainWindow, check: Callable[[str], bool], timeout_ms: int) -> None:
        super().__init__(window)
        self.window = window
        self.check = check
        self.screen: LockScreen | None = None
        self._disabled: list[QAction] = []
        self._title = ""
        self.watcher = IdleWatcher(timeout_ms, self)
        self.watcher.idle.connect(self.lock)
        window.installEventFilter(self)

    @property
    def is_locked(self) -> bool:
        return self.screen is not None

    def lock(self) -> None:
        if self.is_locked:
            return
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QDialog) and w.isVisible():
                w.reject()
        self._disabled = [a for a in self.window.findChildren(QAction) if a.isEnabled()]
        for a in self._disabled:
            a.setEnabled(False)
        central = self.window.centralWidget()
        if central is not None:
            central.hide()
        self._title = self.window.windowTitle()
        self.window.setWindowTitle(t("已锁定") + " — " + t("中医病历结构化"))
        self.screen = LockScreen(self.window)
        self.screen.setGeometry(self.window.rect())
        self.screen.unlockRequested.connect(self.try_unlock)
        self.screen.show()
        self.screen.raise_()
        self.screen.passphrase.setFocus()
        self.locked.emit()

    def try_unlock(self, passphrase: str) -> bool:
        if self.screen is None:
            return True
        if not passphrase or not self.check(passphrase):
            self.screen.passphrase.clear()
            self.screen.error.setText(t("口令不正确，请重试"))
            return False
        self.screen.deleteLater()
        self.screen = None
        central = self.window.centralWidget()
        if central is not None:
            central.show()
        for a in self._disabled:
            a.setEnabled(True)
        self._disabled = []
        self.window.setWindowTitle(self._title)
        if self.watcher.timer.interval() > 0:
            self.watcher.timer.start()
        self.unlocked.emit()
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        # getattr: Qt may still deliver events while the Python side is being torn down.
        screen = getattr(self, "screen", None)
        if screen is not None and event.type() == QEvent.Type.Resize and watched is getattr(self, "window", None):
            screen.setGeometry(watched.rect())
        return False


def install_lock(window: QMainWindow, db: Database, settings: QSettings) -> AppLock | None:
    """An :class:`AppLock` for an encrypted database (None for a plain one: nothing to check against)."""
    if not encryption.is_encrypted(db.path):
        return None
    path = db.path
    return AppLock(window, lambda p: encryption.check_passphrase(path, p), int(lock_minutes(settings) * 60_000))


# -- start-up dialogs ---------------------------------------------------------------------------------

def open_database(path: Path, ask: Callable[[str], str | None] | None = None, **options: Any) -> Database | None:
    """Open the database, asking for the passphrase of an encrypted one until it is right.

    ``ask(message)`` returns the typed passphrase or None (cancelled: returns
    None). Errors other than the passphrase propagate to the caller.
    """
    ask = ask or _ask_passphrase
    message = t("病历数据库已加密，请输入口令：")
    while True:
        try:
            return Database(path, **options)
        except encryption.PassphraseMissing:
            pass
        except encryption.WrongPassphrase:
            message = t("口令不正确，请重试：")
        passphrase = ask(message)
        if passphrase is None:
            return None
        try:
            return Database(path, passphrase=passphrase, **options)
        except encryption.WrongPassphrase:
            message = t("口令不正确，请重试：")
            continue


def _ask_passphrase(message: str) -> str | None:
    text, ok = QInputDialog.getText(None, t("数据库口令"), message, QLineEdit.EchoMode.Password)
    return text if ok else None


class EncryptionOffer(QDialog):
    """First start: encrypt the new database? (passphrase typed twice, at least 8 characters)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(t("加密病历数据库"))
        form = QFormLayout(self)
        form.addRow(QLabel(t("建议加密：电脑丢失或被他人使用时，病历无法被读取。口令遗失则数据无法恢复。")))
        self.first = QLineEdit()
        self.first.setEchoMode(QLineEdit.EchoMode.Password)
        self.second = QLineEdit()
        self.second.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel("")
        form.addRow(t("口令"), self.first)
        form.addRow(t("再次输入"), self.second)
        form.addRow(self.error)
        bb = QDialogButtonBox()
        bb.addButton(t("加密"), QDialogButtonBox.ButtonRole.AcceptRole)
        bb.addButton(t("不加密"), QDialogButtonBox.ButtonRole.RejectRole)
        bb.accepted.connect(self._accept)
        bb.rejected.connect(self.reject)
        form.addRow(bb)

    def passphrase(self) -> str | None:
        """The accepted passphrase, or None when the user declined."""
        return self.first.text() if self.result() == QDialog.DialogCode.Accepted else None

    def _accept(self) -> None:
        if len(self.first.text()) < MIN_PASSPHRASE:
            self.error.setText(t("口令至少需要 8 个字符"))
        elif self.first.text() != self.second.text():
            self.error.setText(t("两次输入的口令不一致"))
        else:
            self.accept()


def offer_encryption(path: Path, settings: QSettings, dialog: EncryptionOffer | None = None) -> str | None:
    """At first start (no database yet, never offered): the passphrase to create it encrypted, or None."""
    if path.exists() or settings.value(OFFERED_KEY, False, type=bool):
        return None
    settings.setValue(OFFERED_KEY, True)
    dlg = dialog or EncryptionOffer()
    dlg.exec()
    return dlg.passphrase()
