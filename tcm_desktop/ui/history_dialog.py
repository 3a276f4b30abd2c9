"""History and review queue: every saved record with its review progress, filters, search, reopen.

Why one list for both: a doctor works through records (which are not yet
reviewed? which have entities the model was unsure of? which mention a
category, in a date range?) and finds earlier visits (search, optionally
ignoring negated mentions: 咳嗽 then does not find 无咳嗽咯痰). Titles say
what a record is (patient, chief complaint, first diagnosis), dates are
shown in full, and "next to review" opens the next unfinished record.
Queries are in the Qt-free :mod:`tcm_desktop.records.queue`. The selected
record's versions and the audit trail of the doctor's corrections are shown
below the list, and a record can be deleted completely from here.
"""

from __future__ import annotations

import json
from html import escape

from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from tcm_desktop.records.database import Database, StorageError
from tcm_desktop.records.queue import QueueEntry, next_to_review, review_queue
from tcm_desktop.schema import CATEGORIES
from tcm_desktop.ui.i18n import category_name, t

STATE_NAMES = {"unreviewed": "未审核", "in_review": "审核中", "done": "已完成"}
STATE_COLOURS = {"unreviewed": "#fdecea", "in_review": "#fff4d6", "done": "#e6f4ea"}


def full_time(iso: str) -> str:
    """``2026-11-30T10:53:52+00:00`` -> ``2026-11-30 10:53:52`` (shown whole, never cut)."""
    return iso.replace("T", " ")[:19]


class HistoryDialog(QDialog):
    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("historyDialog")
        self.setWindowTitle(t("历史记录与审核队列"))
        self.resize(1060, 560)
        self.db = db
        self.entries: list[QueueEntry] = []
        self.chosen_record_id: str | None = None
        self.current_record_id: str | None = None
        self.deleted: list[str] = []
        self._closed = False

        self.search = QLineEdit()
        self.search.setObjectName("historySearch")
        self.search.setPlaceholderText(t("搜索病历全文，如：胃脘胀痛、柴胡"))
        self.search.setClearButtonEnabled(True)
        self.exclude_negated = QCheckBox(t("排除否定（如“无咳嗽”）"))
        self.exclude_negated.setObjectName("excludeNegated")
        self.state = QComboBox()
        self.state.setObjectName("stateFilter")
        self.state.addItem(t("全部状态"), None)
        for code, name in STATE_NAMES.items():
            self.state.addItem(t(name), code)
        self.low = QCheckBox(t("含低置信度实体"))
        self.low.setObjectName("lowFilter")
        self.category = QComboBox()
        self.category.setObjectName("categoryFilter")
        self.category.addItem(t("全部类别"), None)
        for c in CATEGORIES:
            self.category.addItem(category_name(c.code), c.code)
        self.use_dates = QCheckBox(t("日期"))
        self.use_dates.setObjectName("dateFilter")
        self.date_from = QDateEdit(QDate.currentDate().addMonths(-1))
        self.date_to = QDateEdit(QDate.currentDate())
        for d in (self.date_from, self.date_to):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
        filters = QHBoxLayout()
        for w in (self.state, self.low, self.category, self.use_dates, self.date_from, QLabel("—"), self.date_to):
            filters.addWidget(w)
        filters.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.exclude_negated)

        self.table = QTableWidget(0, 8)
        self.table.setObjectName("historyTable")
        self.table.setHorizontalHeaderLabels([t("标题"), t("患者"), t("状态"), t("进度"), t("低置信度"),
                                              t("更新时间"), t("创建时间"), t("版本")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, 8):
            self.table.horizontalHeader().setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.table.doubleClicked.connect(self.open_selected)
        # the selected record's versions and the audit trail of the doctor's corrections
        self.details = QTextBrowser()
        self.details.setObjectName("historyDetails")
        self.details.setMaximumHeight(180)
        self.table.currentCellChanged.connect(self._show_details)
        self.summary = QLabel()
        self.summary.setObjectName("queueSummary")
        self.next_btn = QPushButton(t("下一个待审核病历"))
        self.next_btn.setObjectName("nextToReview")
        self.next_btn.clicked.connect(self.open_next)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Open).setText(t("打开"))
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(t("取消"))
        buttons.addButton(self.next_btn, QDialogButtonBox.ButtonRole.ActionRole)
        self.delete_btn = buttons.addButton(t("删除记录…"), QDialogButtonBox.ButtonRole.DestructiveRole)
        self.delete_btn.setObjectName("historyDelete")
        self.delete_btn.clicked.connect(self.delete_selected)
        buttons.accepted.connect(self.open_selected)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addLayout(filters)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.details)
        lay.addWidget(self.summary)
        lay.addWidget(buttons)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(self.refresh)
        self.search.textChanged.connect(self._debounce.start)
        for sig in (self.exclude_negated.toggled, self.low.toggled, self.use_dates.toggled,
                    self.state.currentIndexChanged, self.category.currentIndexChanged,
                    self.date_from.dateChanged, self.date_to.dateChanged):
            sig.connect(self._debounce.start)
        self.refresh()

    def done(self, result: int) -> None:
        """Stop the pending search once the dialog closes (its database may be closed next)."""
        self._debounce.stop()
        self._closed = True
        super().done(result)

    def refresh(self) -> None:
        if self._closed:
            return
        dates = self.use_dates.isChecked()
        self.entries = review_queue(
            self.db, state=self.state.currentData(), low_confidence=self.low.isChecked(),
            category=self.category.currentData(),
            date_from=self.date_from.date().toString("yyyy-MM-dd") if dates else None,
            date_to=self.date_to.date().toString("yyyy-MM-dd") if dates else None,
            search=self.search.text(), exclude_negated=self.exclude_negated.isChecked())
        self.table.setRowCount(len(self.entries))
        for r, h in enumerate(self.entries):
            values = [h.title, h.patient_name, t(STATE_NAMES[h.state]), f"{h.reviewed}/{h.total}",
                      str(h.low_confidence), full_time(h.updated), full_time(h.created), str(h.version)]
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if c in (3, 4, 7):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 2:
                    item.setBackground(QBrush(QColor(STATE_COLOURS[h.state])))
                if c == 4 and h.low_confidence:
                    item.setForeground(QBrush(QColor("#c0392b")))
                item.setToolTip(h.record_id if c == 0 else v)
                self.table.setItem(r, c, item)
        counts = {s: sum(e.state == s for e in self.entries) for s in STATE_NAMES}
        self.summary.setText(t("共 %1 条：未审核 %2，审核中 %3，已完成 %4").replace("%1", str(len(self.entries)))
                             .replace("%2", str(counts["unreviewed"])).replace("%3", str(counts["in_review"]))
                             .replace("%4", str(counts["done"])))
        if self.entries:
            self.table.selectRow(0)

    def _show_details(self, row: int, *_: int) -> None:
        if not 0 <= row < len(self.entries):
            self.details.clear()
            return
        self.details.setHtml(details_html(self.db, self.entries[row].record_id))

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

    def open_next(self) -> None:
        nxt = next_to_review(self.entries, self.current_record_id)
        if nxt is None:
            self.summary.setText(t("所有病历均已审核完毕"))
            return
        self.chosen_record_id = nxt.record_id
        self.accept()


def details_html(db: Database, rid: str) -> str:
    """Versions (when, who, entities), where the record came from and its audit steps, as HTML."""
    parts = [f"<b>{escape(t('版本'))}</b><ul>"]
    for v in db.versions(rid):
        parts.append(f"<li>{escape(t('第 %n 版').replace('%n', str(v['version'])))} · "
                     f"{escape(str(v['saved_at']).replace('T', ' ')[:19])} · {escape(v['user'] or '-')} · "
                     f"{escape(t('实体数'))} {v['entities']}</li>")
    parts.append("</ul>")
    info = db.record_info(rid) or {}
    if info.get("external_id") or info.get("source"):
        parts.append(f"<p>{escape(t('来源'))}: {escape(str(info.get('source') or ''))} · "
                     f"{escape(str(info.get('external_id') or ''))}</p>")
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
