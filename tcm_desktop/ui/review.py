"""Review commands on one ``QUndoStack`` and the entity context menu, over the Qt-free ReviewState.

Why a controller: the editor, the entity list and the structured view all show
one :class:`ReviewState`; the controller owns it with the undo stack and the
*current* entity, and tells every view when something changed. Every step the
doctor takes -- a review step, typing, pasting, a re-analysis -- is one
:class:`ReviewCommand` wrapping one ``Edit`` (before/after snapshots of text,
entities and deleted suggestions) on the same stack, so Ctrl+Z always undoes
the last thing done, whatever it was, and undoing an edit of the text brings
back the entities it removed. Consecutive keystrokes merge into one step.

Typing is frequent and a record can hold a thousand entities: after a text
edit the views are refreshed once typing pauses (``changed`` is coalesced by a
short timer); the editor's highlights follow the text meanwhile because Qt
moves their cursors with the document.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QMenu, QWidget

from tcm_desktop.review_state import Edit, ReviewError, ReviewState, fill
from tcm_desktop.schema import ASSERTIONS, CATEGORIES
from tcm_desktop.structured import StructuredRecord
from tcm_desktop.ui.i18n import assertion_name, category_name, t

ACTION_NAMES = {
    "relabel": "更改类别", "set_assertion": "设置断言", "accept": "确认", "accept_all": "全部确认",
    "delete": "删除实体", "add": "添加实体", "resize": "调整边界", "edit_text": "输入",
    "text_edit_dropped": "编辑文本", "reanalyse": "重新分析", "analyse": "分析",
}
_TYPING_ID = 1917  # QUndoCommand.id() of mergeable typing steps
LOW_CONFIDENCE = 0.6  # a model score below this is worth a closer look (red in the list)


def review_error_text(exc: ReviewError) -> str:
    """A core refusal in the UI language: the template is translated, then filled."""
    return fill(t(exc.template), exc.values)


class ReviewCommand(QUndoCommand):
    """One undoable step of the doctor (a review step, an edit of the text, a re-analysis)."""

    def __init__(self, controller: ReviewController, edit: Edit, previous_current: int | None) -> None:
        super().__init__(t(ACTION_NAMES.get(edit.action, edit.action)))
        self.controller, self.edit, self.previous_current = controller, edit, previous_current

    def id(self) -> int:
        return _TYPING_ID if self.edit.action == "edit_text" else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        """Keystrokes that continue one another (typing on, or backspacing) become one step."""
        if not isinstance(other, ReviewCommand) or other.edit.action != "edit_text":
            return False
        mine, theirs = self.edit.text_range, other.edit.text_range
        if mine is None or theirs is None or theirs[0] not in (mine[2], mine[0], mine[2] - 1):
            return False
        e, o = self.edit, other.edit
        e.after, e.text_after, e.deleted_after, e.text_range = o.after, o.text_after, o.deleted_after, (
            min(mine[0], theirs[0]), mine[1], theirs[2])
        return True

    def redo(self) -> None:
        self.controller._apply(self.edit, undo=False)
        self.controller._after_change(self.edit.focus if self.edit.focus is not None else self.controller.current,
                                      self.edit)

    def undo(self) -> None:
        self.controller._apply(self.edit, undo=True)
        self.controller._after_change(self.previous_current, self.edit)


class ReviewController(QObject):
    """The review state of the open record, its undo stack and the current entity."""

    changed = Signal()  # entities changed (any view must re-render)
    currentChanged = Signal(int)  # -1 when none
    message = Signal(str)  # a refusal or note to show in the status bar
    entitiesDropped = Signal(int)  # an edit of the text removed this many entities
    textReplaced = Signal(str, int)  # undo/redo changed the text: (new text, cursor position in Python offsets)

    def __init__(self, parent: QObject | None = None, settle_ms: int = 400) -> None:
        super().__init__(parent)
        self.state = ReviewState()
        self.undo_stack = QUndoStack(self)
        self.current: int | None = None
        self.analysed = False
        self._typing = False  # the editor already shows the text being applied
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(settle_ms)
        self._settle.timeout.connect(self.changed)

    # -- loading -----------------------------------------------------------------
    def load(self, record: StructuredRecord, analysed: bool = True) -> None:
        """Start reviewing a record (opened or restored): a fresh undo history."""
        self.state = ReviewState.from_record(record)
        self.analysed = analysed
        self._fresh()

    def reset(self, text: str = "") -> None:
        self.state = ReviewState(text)
        self.analysed = False
        self._fresh()

    def _fresh(self) -> None:
        self._settle.stop()
        self.undo_stack.clear()
        self.current = None
        self.changed.emit()
        self.currentChanged.emit(-1)

    def flush(self) -> None:
        """Emit a pending ``changed`` now (before saving, exporting, or in tests)."""
        if self._settle.isActive():
            self._settle.stop()
            self.changed.emit()

    def analysis_result(self, record: StructuredRecord) -> bool:
        """The engine's output for the current text, as one undoable step that keeps every decision."""
        if not self._push(lambda: self.state.reanalyse(record)):
            return False
        self.analysed = True
        return True

    # -- current entity ----------------------------------------------------------
    def set_current(self, index: int | None) -> None:
        if index is not None and not 0 <= index < len(self.state.entities):
            index = None
        if index != self.current:
            self.current = index
            self.currentChanged.emit(-1 if index is None else index)

    def move(self, backwards: bool = False) -> None:
        self.set_current(self.state.next_index(self.current, backwards))

    def next_low_confidence(self, threshold: float = LOW_CONFIDENCE) -> bool:
        """Make the next unreviewed entity the model was unsure of current."""
        self.flush()
        i = self.state.next_low_confidence(self.current, threshold)
        if i is None:
            self.message.emit(t("没有待审核的低置信度实体"))
            return False
        self.set_current(i)
        return True

    # -- operations --------------------------------------------------------------
    def _push(self, make: Callable[[], Edit]) -> bool:
        self.flush()
        try:
            edit = make()
        except ReviewError as exc:
            self.message.emit(review_error_text(exc))
            return False
        self.undo_stack.push(ReviewCommand(self, edit, self.current))
        return True

    def _apply(self, edit: Edit, undo: bool) -> None:
        (self.state.revert if undo else self.state.apply)(edit)
        if edit.text_before is not None and not self._typing:
            rng = edit.text_range or (0, 0, 0)
            self.textReplaced.emit(self.state.text, rng[0] if undo else rng[2])

    def _edit_current(self, index: int | None, edit: Callable[[ReviewState, int], Edit]) -> bool:
        """Apply an edit (relabel, delete, widen…) to the given (or current) entity as one undoable step; False when none is chosen."""
        i = self._need_current(index)
        return i is not None and self._push(lambda: edit(self.state, i))

    def _need_current(self, index: int | None) -> int | None:
        i = self.current if index is None else index
        if i is None:
            self.message.emit(t("请先选择一个实体（Tab 键逐个跳转）"))
        return i

    def relabel(self, label: str, index: int | None = None) -> bool:
        return self._edit_current(index, lambda state, i: state.relabel(i, label))

    def set_assertion(self, assertion: str, index: int | None = None) -> bool:
        return self._edit_current(index, lambda state, i: state.set_assertion(i, assertion))

    def cycle_assertion(self, index: int | None = None) -> bool:
        i = self._need_current(index)
        if i is None:
            return False
        cur = self.state.entities[i].assertion
        nxt = ASSERTIONS[(ASSERTIONS.index(cur) + 1) % len(ASSERTIONS)] if cur in ASSERTIONS else "present"
        return self.set_assertion(nxt, i)

    def accept(self, index: int | None = None, advance: bool = False) -> bool:
        i = self._need_current(index)
        ok = i is not None and self._push(lambda: self.state.accept(i))
        if ok and advance:
            nxt = self.state.next_unreviewed(i)
            if nxt is not None:
                self.set_current(nxt)
        return ok

    def accept_all(self) -> bool:
        return self._push(self.state.accept_all_remaining)

    def delete(self, index: int | None = None) -> bool:
        return self._edit_current(index, ReviewState.delete)

    def add(self, start: int, end: int, label: str) -> bool:
        return self._push(lambda: self.state.add(start, end, label))

    def widen_left(self, index: int | None = None) -> bool:
        return self._edit_current(index, ReviewState.widen_left)

    def widen_right(self, index: int | None = None) -> bool:
        return self._edit_current(index, ReviewState.widen_right)

    def narrow_left(self, index: int | None = None) -> bool:
        return self._edit_current(index, ReviewState.narrow_left)

    def narrow_right(self, index: int | None = None) -> bool:
        return self._edit_current(index, ReviewState.narrow_right)

    def text_edited(self, new_text: str, hint: int | None = None) -> Edit | None:
        """The doctor typed or pasted: one undoable step; entities after the edit shift, touched ones drop."""
        if new_text == self.state.text:
            return None
        edit = self.state.text_edit(new_text, hint)
        self._typing = True
        try:
            self.undo_stack.push(ReviewCommand(self, edit, None))
        finally:
            self._typing = False
        if edit.dropped:
            self.entitiesDropped.emit(len(edit.dropped))
            self.message.emit(t("编辑改动了 %n 个实体，已移除（Ctrl+Z 恢复）").replace("%n", str(len(edit.dropped))))
        return edit

    def _after_change(self, focus: int | None, edit: Edit | None = None) -> None:
        if edit is not None and edit.action == "edit_text" and self._typing:
            self._settle.start()  # plain typing: re-render once the doctor pauses
            if self.current is not None:
                self.current = None
                self.currentChanged.emit(-1)
            return
        self._settle.stop()
        self.changed.emit()
        if focus is not None and not 0 <= focus < len(self.state.entities):
            focus = None
        self.current = focus
        self.currentChanged.emit(-1 if focus is None else focus)


def entity_menu(controller: ReviewController, index: int, parent: QWidget | None = None) -> QMenu:
    """Context menu for one entity: category (with the schema's shortcut keys), assertion, accept, delete, bounds."""
    e = controller.state.entities[index]
    menu = QMenu(parent)
    menu.setObjectName("entityMenu")
    title = menu.addAction(f"「{e.text}」 {category_name(e.label)}")
    title.setEnabled(False)
    menu.addSeparator()
    cats = menu.addMenu(t("类别"))
    cats.setObjectName("categoryMenu")
    group = QActionGroup(cats)
    for cat in CATEGORIES:
        # "&1 症状": the schema's key works as a mnemonic while the menu is open
        act = QAction(f"&{cat.shortcut}  {category_name(cat.code)}", cats)
        act.setCheckable(True)
        act.setChecked(cat.code == e.label)
        act.setData(cat.code)
        act.setShortcut(QKeySequence(f"Alt+{cat.shortcut.upper()}"))
        act.setShortcutVisibleInContextMenu(True)
        act.triggered.connect(lambda _=False, code=cat.code: controller.relabel(code, index))
        group.addAction(act)
        cats.addAction(act)
    asserts = menu.addMenu(t("断言"))
    asserts.setObjectName("assertionMenu")
    for value in ASSERTIONS:
        act = asserts.addAction(assertion_name(value))
        act.setCheckable(True)
        act.setChecked(value == e.assertion)
        act.setData(value)
        act.triggered.connect(lambda _=False, v=value: controller.set_assertion(v, index))
    menu.addSeparator()
    acc = menu.addAction(t("确认"), lambda: controller.accept(index))
    acc.setShortcut(QKeySequence("Alt+Return"))
    acc.setObjectName("acceptAction")
    dele = menu.addAction(t("删除"), lambda: controller.delete(index))
    dele.setShortcut(QKeySequence("Alt+Delete"))
    dele.setObjectName("deleteAction")
    menu.addSeparator()
    for label, fn, keys in (
        (t("向左扩展"), controller.widen_left, "Alt+Left"),
        (t("向右扩展"), controller.widen_right, "Alt+Right"),
        (t("左端收缩"), controller.narrow_left, "Alt+Shift+Right"),
        (t("右端收缩"), controller.narrow_right, "Alt+Shift+Left"),
    ):
        a = menu.addAction(label, lambda f=fn: f(index))
        a.setShortcut(QKeySequence(keys))
    for a in menu.actions():
        a.setShortcutVisibleInContextMenu(True)
    return menu


def add_entity_menu(controller: ReviewController, start: int, end: int, parent: QWidget | None = None) -> QMenu:
    """Context menu over a text selection: add an entity of any category."""
    menu = QMenu(parent)
    menu.setObjectName("addMenu")
    sub = menu.addMenu(t("添加实体"))
    sub.setObjectName("addCategoryMenu")
    for cat in CATEGORIES:
        act = sub.addAction(f"&{cat.shortcut}  {category_name(cat.code)}")
        act.setData(cat.code)
        act.setShortcut(QKeySequence(f"Alt+{cat.shortcut.upper()}"))
        act.setShortcutVisibleInContextMenu(True)
        act.triggered.connect(lambda _=False, code=cat.code: controller.add(start, end, code))
    return menu
