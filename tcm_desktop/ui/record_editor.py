"""The record text editor: entities drawn as ExtraSelections in their category colours.

Why ExtraSelections: they colour the text without changing the document, so
typing, copy/paste and the editor's own undo stay plain-text operations and
the highlights can be recomputed from the review state at any time.

Status is shown by styling, colour always meaning category:
unreviewed = colour only; accepted = bold; corrected = solid underline;
added = italic with dotted underline; the current entity is drawn darker.
Every assertion other than 存在 has its own cue in the text colour:
否定 grey and struck through, 可能 orange-brown, 既往 blue, 家族 purple
(:data:`ASSERTION_CUES`, also shown in the legend).

Undo: the document's own undo is off; Ctrl+Z, Ctrl+Shift+Z and Ctrl+Y go to
the record's single undo stack (:mod:`.review`), so typing and review steps
are undone in the order they were done. Offsets are converted to Qt's
UTF-16 positions only here, through :mod:`.offsets`.

Keys (all on the current entity, moved with Tab / Shift+Tab):
Alt+<schema key> relabel (or add, over a selection); Alt+Return accept and go
to the next unreviewed; Alt+Delete delete; Alt+N cycle the assertion;
Alt+Left/Alt+Right widen; Alt+Shift+Right/Alt+Shift+Left narrow;
Ctrl+Return analyse.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QEvent, QPoint, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QToolTip, QWidget

from tcm_desktop.schema import CATEGORIES, CATEGORY_BY_CODE
from tcm_desktop.ui.i18n import assertion_name, category_name, status_name, t
from tcm_desktop.ui.offsets import OffsetMap
from tcm_desktop.ui.review import ReviewController, add_entity_menu, entity_menu

_KEY_TO_LABEL = {c.shortcut.lower(): c.code for c in CATEGORIES}

#: Inline cue (text colour) of each assertion; 存在 (present) has none.
ASSERTION_CUES = {"absent": "#6b6b6b", "possible": "#a0522d", "history": "#1f4e9c", "family": "#7b2d8e"}

UNDO_KEYS = ("Ctrl+Z",)
REDO_KEYS = ("Ctrl+Shift+Z", "Ctrl+Y")


def _matches(event: QKeyEvent, keys: tuple[str, ...]) -> bool:
    """Whether a key press is one of ``keys`` (strings: a QKeySequence needs a running QGuiApplication)."""
    combo = QKeySequence(event.keyCombination())
    return any(combo.matches(QKeySequence(k)) == QKeySequence.SequenceMatch.ExactMatch for k in keys)


class RecordEditor(QPlainTextEdit):
    """Plain-text editor bound to a :class:`ReviewController`."""

    analyseRequested = Signal()

    def __init__(self, controller: ReviewController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setObjectName("recordEditor")
        self.setPlaceholderText(t("在此输入或粘贴病历，按 Ctrl+Enter 分析"))
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        f = self.font()
        f.setPointSizeF(max(f.pointSizeF(), 10.5) * 1.25)
        self.setFont(f)
        self._map = OffsetMap("")
        self._loading = False
        self.setUndoRedoEnabled(False)  # one undo stack for the record: the controller's
        self.document().contentsChange.connect(self._on_contents_change)
        controller.changed.connect(self.refresh)
        controller.currentChanged.connect(self._on_current_changed)
        controller.textReplaced.connect(self._on_text_replaced)

    # -- text <-> state -----------------------------------------------------------
    def text(self) -> str:
        return self.toPlainText()

    def set_text(self, text: str) -> None:
        """Replace the whole text without treating it as the doctor's edit."""
        self._loading = True
        try:
            self.setPlainText(text)
        finally:
            self._loading = False
        self._map = OffsetMap(text)
        self.refresh()

    def _on_text_replaced(self, text: str, cursor_py: int) -> None:
        """Undo/redo changed the text: show it, cursor where the change was."""
        if text != self.toPlainText():
            self.set_text(text)
        c = self.textCursor()
        c.setPosition(self._map.to_qt(max(0, min(cursor_py, len(text)))))
        self.setTextCursor(c)

    def _on_contents_change(self, position: int, removed: int, added: int) -> None:
        if self._loading:
            return
        text = self.toPlainText()
        self._map = OffsetMap(text)
        hint = self._map.to_py(position)
        self.controller.text_edited(text, hint)

    # -- drawing ----------------------------------------------------------------
    def refresh(self) -> None:
        """Redraw every entity highlight from the review state."""
        text = self.toPlainText()
        if text != self.controller.state.text:
            return  # a load is in progress; the next refresh draws
        if self._map.text != text:
            self._map = OffsetMap(text)
        sels = []
        cur = self.controller.current
        for i, e in enumerate(self.controller.state.entities):
            cat = CATEGORY_BY_CODE.get(e.label)
            sel = QTextEdit.ExtraSelection()
            c = QTextCursor(self.document())
            c.setPosition(self._map.to_qt(e.start))
            c.setPosition(self._map.to_qt(e.end), QTextCursor.MoveMode.KeepAnchor)
            sel.cursor = c
            sel.format = self.entity_format(cat.colour if cat else "#dddddd", e.status, e.assertion, i == cur)
            sels.append(sel)
        self.setExtraSelections(sels)

    @staticmethod
    @functools.lru_cache(maxsize=512)
    def entity_format(colour: str, status: str, assertion: str, current: bool) -> QTextCharFormat:
        """The highlight of one entity (cached: a thousand entities share a few dozen formats)."""
        fmt = QTextCharFormat()
        bg = QColor(colour)
        if current:
            bg = bg.darker(130)
        fmt.setBackground(bg)
        if status == "accepted":
            fmt.setFontWeight(QFont.Weight.Bold)
        elif status == "corrected":
            fmt.setFontUnderline(True)
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.SingleUnderline)
        elif status == "added":
            fmt.setFontItalic(True)
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.DotLine)
        if assertion in ASSERTION_CUES:
            fmt.setForeground(QColor(ASSERTION_CUES[assertion]))
        if assertion == "absent":
            fmt.setFontStrikeOut(True)
        return fmt

    def _on_current_changed(self, index: int) -> None:
        self.refresh()
        if index >= 0:
            e = self.controller.state.entities[index]
            c = self.textCursor()
            c.setPosition(self._map.to_qt(e.start))
            self.setTextCursor(c)
            self.ensureCursorVisible()

    # -- positions --------------------------------------------------------------
    def entity_index_at(self, viewport_pos: QPoint) -> int | None:
        """The entity under a viewport point (the character cell the point is on, not the nearest gap)."""
        c = self.cursorForPosition(viewport_pos)
        qt = c.position()
        char_qt = qt if viewport_pos.x() >= self.cursorRect(c).x() else qt - 1
        if char_qt < 0:
            return None
        py = self._map.to_py(char_qt)
        for i, e in enumerate(self.controller.state.entities):
            if e.start <= py < e.end:
                return i
        return None

    def entity_rect(self, index: int) -> QPoint:
        """Viewport point in the middle of the first character of an entity (for tests and menus)."""
        e = self.controller.state.entities[index]
        c = QTextCursor(self.document())
        c.setPosition(self._map.to_qt(e.start))
        r1 = self.cursorRect(c)
        c.setPosition(self._map.to_qt(e.start + 1))
        r2 = self.cursorRect(c)
        return QPoint((r1.x() + r2.x()) // 2 if r2.y() == r1.y() else r1.x() + 4, r1.center().y())

    def selection_py(self) -> tuple[int, int] | None:
        c = self.textCursor()
        if not c.hasSelection():
            return None
        return self._map.to_py(c.selectionStart()), self._map.to_py(c.selectionEnd())

    def select_py(self, start: int, end: int) -> None:
        c = QTextCursor(self.document())
        c.setPosition(self._map.to_qt(start))
        c.setPosition(self._map.to_qt(end), QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(c)

    # -- events -----------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        super().mousePressEvent(event)
        if event.button() == Qt.MouseButton.LeftButton and not self.textCursor().hasSelection():
            i = self.entity_index_at(event.position().toPoint())
            self.controller.set_current(i)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.build_context_menu(event.pos())
        menu.exec(event.globalPos())
        menu.deleteLater()

    def build_context_menu(self, viewport_pos: QPoint):
        """Entity menu over an entity, add-entity menu over a selection, else the standard menu."""
        sel = self.selection_py()
        if sel and sel[0] != sel[1]:
            menu = add_entity_menu(self.controller, sel[0], sel[1], self)
            menu.addSeparator()
            for a in self.createStandardContextMenu().actions():
                menu.addAction(a)
            return menu
        i = self.entity_index_at(viewport_pos)
        if i is not None:
            self.controller.set_current(i)
            return entity_menu(self.controller, i, self)
        return self.createStandardContextMenu()

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            i = self.entity_index_at(event.pos())
            if i is not None:
                e = self.controller.state.entities[i]
                QToolTip.showText(
                    event.globalPos(),
                    f"{e.text}\n{category_name(e.label)} · {assertion_name(e.assertion)} · "
                    f"{status_name(e.status)} · {e.score:.2f}",
                    self,
                )
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent) and (
                _matches(event, UNDO_KEYS) or _matches(event, REDO_KEYS)):
            event.accept()  # the editor handles undo/redo itself, through the record's stack
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if _matches(event, UNDO_KEYS):
            self.controller.undo_stack.undo()
            event.accept()
            return
        if _matches(event, REDO_KEYS):
            self.controller.undo_stack.redo()
            event.accept()
            return
        if self.handle_review_key(event):
            event.accept()
            return
        super().keyPressEvent(event)

    def handle_review_key(self, event: QKeyEvent) -> bool:
        """Review shortcuts; returns True when the key was a review command."""
        key, mods = event.key(), event.modifiers()
        alt = bool(mods & Qt.KeyboardModifier.AltModifier)
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        ctl = self.controller
        if ctrl and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.analyseRequested.emit()
            return True
        has_entities = bool(ctl.state.entities)
        if key == Qt.Key.Key_Tab and not ctrl and not alt and has_entities:
            ctl.move(backwards=shift)
            return True
        if key == Qt.Key.Key_Backtab and has_entities:
            ctl.move(backwards=True)
            return True
        if not alt or ctrl:
            return False
        if key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            if key == Qt.Key.Key_Left:
                (ctl.narrow_right if shift else ctl.widen_left)()
            else:
                (ctl.narrow_left if shift else ctl.widen_right)()
            return True
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            ctl.accept(advance=True)
            return True
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            ctl.delete()
            return True
        if key == Qt.Key.Key_N:
            ctl.cycle_assertion()
            return True
        ch = _key_char(key)
        if ch and ch in _KEY_TO_LABEL:
            label = _KEY_TO_LABEL[ch]
            sel = self.selection_py()
            if sel and sel[0] != sel[1]:
                ctl.add(sel[0], sel[1], label)
            else:
                ctl.relabel(label)
            return True
        return False


def _key_char(key: int) -> str:
    if Qt.Key.Key_0 <= key <= Qt.Key.Key_9:
        return chr(ord("0") + key - Qt.Key.Key_0)
    if Qt.Key.Key_A <= key <= Qt.Key.Key_Z:
        return chr(ord("a") + key - Qt.Key.Key_A)
    return ""
