"""History of saved records with full-text search (Chinese substrings) and reopen.

Why a dialog over the database rather than a file list: records live in the
SQLite store with versions; searching "胃脘" across every record is the
everyday way a doctor finds a patient's earlier visit.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tcm_desktop.records.database import Database, HistoryEntry
from tcm_desktop.ui.i18n import t


class HistoryDialog(QDialog):
    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyDialog")
        self.setWindowTitle(t("历史记录"))
        self.resize(820, 480)
        self.db = db
        self.entries: list[HistoryEntry] = []
        self.chosen_record_id: str | None = None
        self.search = QLineEdit()
        self.search.setObjectName("historySearch")
        self.search.setPlaceholderText(t("搜索病历全文，如：胃脘胀痛、柴胡"))
        self.search.setClearButtonEnabled(True)
        self.table = QTableWidget(0, 6)
        self.table.setObjectName("historyTable")
        self.table.setHorizontalHeaderLabels([t("标题"), t("患者"), t("更新时间"), t("版本"), t("实体数"), t("摘要")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(5, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(self.open_selected)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.open_selected)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.search)
        lay.addWidget(self.table)
        lay.addWidget(buttons)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(self.refresh)
        self.search.textChanged.connect(self._debounce.start)
        self.refresh()

    def done(self, result: int) -> None:
        """Stop the pending search once the dialog closes (its database may be closed next)."""
        self._debounce.stop()
        self._closed = True
        super().done(result)

    def refresh(self) -> None:
        if getattr(self, "_closed", False):
            return
        self.entries = self.db.history(self.search.text())
        self.table.setRowCount(len(self.entries))
        for r, h in enumerate(self.entries):
            for c, v in enumerate([h.title, h.patient_name, h.updated.replace("T", " ")[:19], str(h.version),
                                   str(h.entity_count), h.snippet]):
                item = QTableWidgetItem(v)
                if c in (3, 4):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        if self.entries:
            self.table.selectRow(0)

    def open_selected(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.entries):
            self.chosen_record_id = self.entries[row].record_id
            self.accept()
