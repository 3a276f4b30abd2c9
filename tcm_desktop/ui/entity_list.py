"""Side list of entities grouped by category: text, assertion, score, status; selection synced with the editor.

Why grouped: doctors check a record category by category (all symptoms, then
the tongue, then the prescription); the list is the overview, the editor the
context. Selecting a row makes that entity current everywhere; the context
menu is the same as the editor's.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QTreeWidget, QTreeWidgetItem, QWidget

from tcm_desktop.schema import CATEGORIES
from tcm_desktop.ui.i18n import assertion_name, category_name, status_name, t
from tcm_desktop.ui.review import ReviewController, entity_menu

INDEX_ROLE = Qt.ItemDataRole.UserRole + 1


class EntityList(QTreeWidget):
    """Tree: category rows with their entities as children."""

    def __init__(self, controller: ReviewController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setObjectName("entityList")
        self.setColumnCount(4)
        self.setHeaderLabels([t("实体"), t("断言"), t("置信度"), t("状态")])
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setUniformRowHeights(True)
        self.header().setStretchLastSection(False)
        self.setColumnWidth(0, 170)
        self._items: dict[int, QTreeWidgetItem] = {}
        self._syncing = False
        controller.changed.connect(self.rebuild)
        controller.currentChanged.connect(self.select_index)
        self.itemSelectionChanged.connect(self._on_selection)
        self.customContextMenuRequested.connect(self._on_menu)

    def retranslate(self) -> None:
        self.setHeaderLabels([t("实体"), t("断言"), t("置信度"), t("状态")])
        self.rebuild()

    def rebuild(self) -> None:
        self._syncing = True
        try:
            self.clear()
            self._items.clear()
            ents = self.controller.state.entities
            for cat in CATEGORIES:
                members = [(i, e) for i, e in enumerate(ents) if e.label == cat.code]
                if not members:
                    continue
                head = QTreeWidgetItem(self, [f"{category_name(cat.code)} ({len(members)})"])
                head.setBackground(0, QBrush(QColor(cat.colour)))
                head.setFlags(Qt.ItemFlag.ItemIsEnabled)
                f = head.font(0)
                f.setBold(True)
                head.setFont(0, f)
                for i, e in members:
                    item = QTreeWidgetItem(head, [e.text, assertion_name(e.assertion), f"{e.score:.2f}",
                                                  status_name(e.status)])
                    item.setData(0, INDEX_ROLE, i)
                    if e.assertion == "absent":
                        fo = item.font(0)
                        fo.setStrikeOut(True)
                        item.setFont(0, fo)
                    if e.status != "unreviewed":
                        fs = item.font(3)
                        fs.setWeight(QFont.Weight.Bold)
                        item.setFont(3, fs)
                    if e.score < 0.6:
                        item.setForeground(2, QBrush(QColor("#c0392b")))
                    self._items[i] = item
            self.expandAll()
        finally:
            self._syncing = False
        self.select_index(-1 if self.controller.current is None else self.controller.current)

    def select_index(self, index: int) -> None:
        self._syncing = True
        try:
            self.clearSelection()
            item = self._items.get(index)
            if item is not None:
                item.setSelected(True)
                self.setCurrentItem(item)
                self.scrollToItem(item)
        finally:
            self._syncing = False

    def item_for(self, index: int) -> QTreeWidgetItem | None:
        return self._items.get(index)

    def _on_selection(self) -> None:
        if self._syncing:
            return
        items = self.selectedItems()
        if items and items[0].data(0, INDEX_ROLE) is not None:
            self.controller.set_current(int(items[0].data(0, INDEX_ROLE)))

    def _on_menu(self, pos: QPoint) -> None:
        item = self.itemAt(pos)
        if item is None or item.data(0, INDEX_ROLE) is None:
            return
        menu = entity_menu(self.controller, int(item.data(0, INDEX_ROLE)), self)
        menu.exec(self.viewport().mapToGlobal(pos))
        menu.deleteLater()
