"""The clinic-insights window: rules mined from this clinic's records, the records behind them, similar cases.

Why a separate window: it reads the whole database, not the record being
edited, and a doctor keeps it open beside the editor. Mining runs on a
worker thread (:func:`~tcm_desktop.insights.mining.mine_database` in a :class:`~tcm_desktop.ui.workers.Task`); the window only filters what came
back, draws it and forwards clicks (``open_record`` opens a case in the main
window). A banner says what these numbers are: statistics of this clinic's
own records, not treatment advice.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRectF, Qt, Slot
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from tcm_desktop.insights.mining import MiningResult, mine_database
from tcm_desktop.insights.rules import Rule, records_for_rule
from tcm_desktop.insights.similar import similar_cases
from tcm_desktop.insights.transactions import KINDS, from_structured
from tcm_desktop.structured import StructuredRecord
from tcm_desktop.ui.i18n import t
from tcm_desktop.ui.windows import init_tool_window
from tcm_desktop.ui.workers import Task, WorkerPool

#: Display names of the rule kinds (Chinese source strings, translated with t()).
KIND_NAMES = {
    "symptom-syndrome": "症状→证候",
    "syndrome-formula": "证候→方剂/治法",
    "formula-herb": "方剂↔中药",
    "symptom-disease": "症状→中医病名",
}
assert set(KIND_NAMES) == set(KINDS)

COLUMNS = ("类型", "前件", "后件", "例数", "支持度", "置信度", "提升度")


def rule_text(rule: Rule) -> str:
    return "、".join(n for _, n in rule.antecedent) + " → " + "、".join(n for _, n in rule.consequent)


class RuleBars(QWidget):
    """Ranked horizontal bars: confidence of the strongest rules shown, with their record counts."""

    def __init__(self, parent: QWidget | None = None, limit: int = 15) -> None:
        super().__init__(parent)
        self.setObjectName("ruleBars")
        self.limit = limit
        self.rules: list[Rule] = []
        self.setMinimumSize(360, 260)

    def set_rules(self, rules: list[Rule]) -> None:
        self.rules = rules[: self.limit]
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#ffffff"))
        w, h = self.width(), self.height()
        title_h = 22
        p.setPen(QColor("#333333"))
        f = QFont(self.font())
        f.setBold(True)
        p.setFont(f)
        p.drawText(QRectF(8, 2, w - 16, title_h), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                   t("置信度最高的规则（条形长度 = 置信度，括号内为例数）"))
        p.setFont(self.font())
        if not self.rules:
            p.setPen(QColor("#777777"))
            p.drawText(QRectF(0, title_h, w, h - title_h), Qt.AlignmentFlag.AlignCenter, t("没有符合条件的规则"))
            return
        label_w = min(int(w * 0.45), 260)
        row_h = max(14.0, min(26.0, (h - title_h - 6) / len(self.rules)))
        bar_w = w - label_w - 70
        for i, r in enumerate(self.rules):
            y = title_h + 4 + i * row_h
            p.setPen(QColor("#222222"))
            p.drawText(QRectF(6, y, label_w - 10, row_h), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       p.fontMetrics().elidedText(rule_text(r), Qt.TextElideMode.ElideMiddle, label_w - 10))
            length = max(1.0, bar_w * r.confidence)
            p.fillRect(QRectF(label_w, y + 3, length, row_h - 6), QColor("#3b7dd8" if r.lift > 1 else "#9aa5b1"))
            p.drawText(QRectF(label_w + length + 4, y, 66, row_h), Qt.AlignmentFlag.AlignVCenter,
                       f"{r.confidence:.0%} ({r.count})")
        p.end()


class InsightsWindow(QDialog):
    """Filterable rule table, ranked-bar chart, records behind a rule, similar past cases."""

    def __init__(
        self,
        db_path: Path | str,
        pool: WorkerPool,
        current_record: Callable[[], StructuredRecord | None] | None = None,
        open_record: Callable[[str], Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        init_tool_window(self, "insightsWindow", t("诊所统计"), (1180, 760))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.db_path, self.pool = Path(db_path), pool
        self.current_record, self.open_record_cb = current_record, open_record
        self.result: MiningResult | None = None
        self.shown_rules: list[Rule] = []
        self.worker: Task | None = None
        self.error: str | None = None
        self._build()

    # -- construction -------------------------------------------------------------
    def _build(self) -> None:
        root = QVBoxLayout(self)
        self.disclaimer = QLabel(t("以下是本诊所病历的统计结果，只反映既往记录中的共现规律，不是治疗建议。"))
        self.disclaimer.setObjectName("insightsDisclaimer")
        self.disclaimer.setWordWrap(True)
        self.disclaimer.setStyleSheet("background:#fff4d6; color:#6b4e00; padding:6px; border:1px solid #e0c36a;")
        root.addWidget(self.disclaimer)

        bar = QHBoxLayout()
        self.kind_box = QComboBox()
        self.kind_box.addItem(t("全部类型"), "")
        for code, name in KIND_NAMES.items():
            self.kind_box.addItem(t(name), code)
        self.min_count = QSpinBox()
        self.min_count.setRange(1, 100000)
        self.min_count.setValue(2)
        self.min_conf = QDoubleSpinBox()
        self.min_conf.setRange(0.0, 1.0)
        self.min_conf.setSingleStep(0.05)
        self.min_conf.setValue(0.3)
        self.search = QLineEdit()
        self.search.setPlaceholderText(t("搜索症状、证候、方剂、中药…"))
        self.reviewed_only = QCheckBox(t("仅已审核病历"))
        self.mine_button = QPushButton(t("重新统计"))
        for label, w in ((t("类型"), self.kind_box), (t("最少例数"), self.min_count), (t("最低置信度"), self.min_conf)):
            bar.addWidget(QLabel(label))
            bar.addWidget(w)
        bar.addWidget(self.search, 1)
        bar.addWidget(self.reviewed_only)
        bar.addWidget(self.mine_button)
        root.addLayout(bar)
        self.progress = QProgressBar()
        self.progress.setMaximumHeight(14)
        self.progress.setVisible(False)
        self.status = QLabel("")
        root.addWidget(self.progress)
        root.addWidget(self.status)

        split = QSplitter(Qt.Orientation.Horizontal)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("rulesTable")
        self.table.setHorizontalHeaderLabels([t(c) for c in COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        # keep the ranking (confidence, then count) until the doctor clicks a column header
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        split.addWidget(self.table)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        self.chart = RuleBars()
        rl.addWidget(self.chart, 3)
        box = QGroupBox(t("该规则所依据的病历（双击打开）"))
        bl = QVBoxLayout(box)
        self.behind = QListWidget()
        self.behind.setObjectName("ruleRecords")
        bl.addWidget(self.behind)
        rl.addWidget(box, 2)
        box = QGroupBox(t("与当前病历相似的既往病例（按共同的阳性所见排序，双击打开）"))
        bl = QVBoxLayout(box)
        self.similar_button = QPushButton(t("查找相似病例"))
        self.similar = QListWidget()
        self.similar.setObjectName("similarCases")
        bl.addWidget(self.similar_button)
        bl.addWidget(self.similar)
        rl.addWidget(box, 2)
        split.addWidget(right)
        split.setSizes([640, 540])
        root.addWidget(split, 1)

        for changed in (self.kind_box.currentIndexChanged, self.min_conf.valueChanged, self.search.textChanged):
            changed.connect(self.refresh)
        for remine in (self.reviewed_only.toggled, self.mine_button.clicked):
            remine.connect(self.mine)
        for listing in (self.behind, self.similar):
            listing.itemDoubleClicked.connect(self._on_open_item)
        self.min_count.valueChanged.connect(self._on_min_count)
        self.table.itemSelectionChanged.connect(self._on_rule_selected)
        self.similar_button.clicked.connect(self.find_similar)

    # -- mining -------------------------------------------------------------------
    @property
    def mining(self) -> bool:
        return self.worker is not None

    def mine(self) -> bool:
        """Start mining on a worker thread (False when one is already running)."""
        if self.worker is not None:
            return False
        if not self.db_path.is_file():
            self._show_status(t("还没有数据库：请先保存病历"), error=True)
            return False
        self.error = None
        self.worker = Task(mine_database, self.db_path, self.min_count.value(), self.reviewed_only.isChecked())
        self.worker.progress.connect(self._on_progress)
        self.worker.result.connect(self._on_result)
        self.worker.error.connect(self._on_error)
        self.worker.finished.connect(self._on_finished)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.mine_button.setEnabled(False)
        self._show_status(t("正在统计…"))
        self.pool.start(self.worker)
        return True

    @Slot(object)
    def _on_progress(self, step: tuple[int, int]) -> None:
        done, total = step
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    @Slot(object)
    def _on_result(self, result: MiningResult | None) -> None:
        if result is None:
            return
        self.result = result
        self.refresh()
        self.find_similar()

    @Slot(str)
    def _on_error(self, message: str) -> None:
        self.error = message
        self._show_status(t("统计失败：") + message, error=True)

    @Slot()
    def _on_finished(self) -> None:
        self.worker = None
        self.progress.setVisible(False)
        self.mine_button.setEnabled(True)
        if self.result is not None and self.result.min_count > self.min_count.value():
            self.mine()

    def _on_min_count(self) -> None:
        # rules below the mined minimum were never counted: mine again, otherwise just filter
        if self.result is not None and self.min_count.value() < self.result.min_count:
            self.mine()
        else:
            self.refresh()

    def _show_status(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color:#b00020;" if error else "color:#555555;")

    # -- filtering and drawing ----------------------------------------------------
    def filtered(self) -> list[Rule]:
        if self.result is None:
            return []
        kind = self.kind_box.currentData()
        n, conf = self.min_count.value(), self.min_conf.value()
        words = self.search.text().split()
        out = []
        for r in self.result.rules:
            if (kind and r.kind != kind) or r.count < n or r.confidence < conf - 1e-9:
                continue
            names = " ".join(name for _, name in r.antecedent + r.consequent)
            if all(w in names for w in words):
                out.append(r)
        return out

    def refresh(self) -> None:
        rules = self.filtered()
        self.shown_rules = rules
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(rules))
        for i, r in enumerate(rules):
            cells = (t(KIND_NAMES[r.kind]), "、".join(n for _, n in r.antecedent), "、".join(n for _, n in r.consequent),
                     r.count, r.support, r.confidence, r.lift)
            for j, v in enumerate(cells):
                item = QTableWidgetItem()
                if isinstance(v, int):
                    item.setData(Qt.ItemDataRole.DisplayRole, v)
                elif isinstance(v, float):
                    item.setData(Qt.ItemDataRole.DisplayRole, round(v, 3))
                else:
                    item.setText(v)
                item.setData(Qt.ItemDataRole.UserRole, i)
                self.table.setItem(i, j, item)
        self.table.setSortingEnabled(True)
        self.chart.set_rules(rules)
        self.behind.clear()
        if self.result is not None:
            self._show_status(t("共 {n} 份病历，显示 {k} 条规则").replace("{n}", str(len(self.result.transactions)))
                              .replace("{k}", str(len(rules))))

    def _selected_rule(self) -> Rule | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return self.shown_rules[int(item.data(Qt.ItemDataRole.UserRole))] if item is not None else None

    def _on_rule_selected(self) -> None:
        rule = self._selected_rule()
        self.behind.clear()
        if rule is None or self.result is None:
            return
        for tx in records_for_rule(self.result.transactions, rule):
            item = QListWidgetItem(tx.title or tx.record_id)
            item.setData(Qt.ItemDataRole.UserRole, tx.record_id)
            self.behind.addItem(item)

    def find_similar(self) -> None:
        """Similar past cases for the record open in the main window."""
        self.similar.clear()
        record = self.current_record() if self.current_record else None
        if self.result is None or record is None:
            return
        target = from_structured(record)
        cases = similar_cases(target, self.result.transactions, k=15)
        if not cases:
            self.similar.addItem(QListWidgetItem(t("当前病历没有可比较的阳性所见")))
            return
        for c in cases:
            item = QListWidgetItem(f"{c.score:.0%}  {c.title or c.record_id}  —  {'、'.join(c.shared)}")
            item.setData(Qt.ItemDataRole.UserRole, c.record_id)
            self.similar.addItem(item)

    def _on_open_item(self, item: QListWidgetItem) -> None:
        rid = item.data(Qt.ItemDataRole.UserRole)
        if rid and self.open_record_cb is not None:
            self.open_record_cb(str(rid))

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        if self.worker is not None:
            self.worker.cancel()
        super().closeEvent(event)
