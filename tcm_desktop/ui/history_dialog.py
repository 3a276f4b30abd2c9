"""History of saved records with full-text search (Chinese substrings) and reopen.

Why a dialog over the database rather than a file list: records live in the
SQLite store with versions; searching "胃脘" across every record is the
everyday way a doctor finds a patient's earlier visit.
"""

from __future__ import annotations

import json
from html import escape

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from tcm_desktop.records.database import Database, HistoryEntry, StorageError
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
        self.deleted: list[str] = []
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
        # the selected record's versions and the audit trail of the doctor's corrections
        self.details = QTextBrowser()
        self.details.setObjectName("historyDetails")
        self.details.setMaximumHeight(180)
        self.table.currentCellChanged.connect(self._show_details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        self.delete_btn = buttons.addButton(t("删除记录…"), QDialogButtonBox.ButtonRole.DestructiveRole)
        self.delete_btn.setObjectName("historyDelete")
        self.delete_btn.clicked.connect(self.delete_selected)
        buttons.accepted.connect(self.open_selected)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.search)
        lay.addWidget(self.table)
        lay.addWidget(self.details)
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

    def _show_details(self, row: int, *_: int) -> None:
        if not 0 <= row < len(self.entries):
            self.details.clear()
            return
        self.details.setHtml(details_html(self.db, self.entries[row]))

    def delete_selected(self, confirm: bool = True) -> bool:
        """Delete the selected record completely (versions, entities, drafts, photos only it used)."""
        row = self.table.currentRow()
        if not 0 <= row < len(self.entries):
            return False
        entry = self.entries[row]
        if confirm:
            answer = QMessageBox.question(
                self, t("删除记录…"),
                t("永久删除该记录的所有版本、实体、草稿和仅属于它的照片？此操作无法撤销。") + f"\n\n{entry.title}",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        try:
            self.db.delete_record(entry.record_id)
        except StorageError as exc:
            self.details.setPlainText(t("删除失败：") + str(exc))
            return False
        self.deleted.append(entry.record_id)
        self.refresh()
        return True

    def open_selected(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.entries):
            self.chosen_record_id = self.entries[row].record_id
            self.accept()


def details_html(db: Database, entry: HistoryEntry) -> str:
    """Versions (when, who, entities) and audit steps (what changed) of one record, as HTML."""
    rid = entry.record_id
    parts = [f"<b>{escape(t('版本'))}</b><ul>"]
    for v in db.versions(rid):
        parts.append(f"<li>{escape(t('第 %n 版').replace('%n', str(v['version'])))} · "
                     f"{escape(str(v['saved_at']).replace('T', ' ')[:19])} · {escape(v['user'] or '-')} · "
                     f"{escape(t('实体数'))} {v['entities']}</li>")
    parts.append("</ul>")
    if entry.external_id or entry.source:
        parts.append(f"<p>{escape(t('来源'))}: {escape(entry.source)} · {escape(entry.external_id)}</p>")
    acts = db.actions(rid)
    parts.append(f"<b>{escape(t('审核记录'))}</b><ul>")
    for a in acts:
        before = "" if a.before is None else json.dumps(a.before, ensure_ascii=False)[:80]
        after = "" if a.after is None else json.dumps(a.after, ensure_ascii=False)[:80]
        change = f"{before} → {after}" if before or after else ""
        parts.append(f"<li>{escape(a.at.replace('T', ' ')[:19])} · v{a.version or '-'} · {escape(a.action)} "
                     f"{escape(change)} · {escape(a.user or '-')}</li>")
    if not acts:
        parts.append(f"<li>{escape(t('无'))}</li>")
    parts.append("</ul>")
    return "".join(parts)
