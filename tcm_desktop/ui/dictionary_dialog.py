"""Settings → clinic dictionary: the (term, label) list the engine applies without retraining.

The widget only edits a :class:`~tcm_desktop.text.clinic_dictionary.ClinicDictionary`
(Qt-free: storage, collecting the doctor's corrections, the rule); saving
emits ``saved`` so the window reloads its engine with the new list.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from tcm_desktop.records.service import terms_from_database
from tcm_desktop.schema import LABELS
from tcm_desktop.text.clinic_dictionary import ClinicDictionary
from tcm_desktop.ui.i18n import t


class DictionaryDialog(QDialog):
    saved = Signal()

    def __init__(self, db_path: Path | str | None, parent=None, path: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(t("诊所词典"))
        self.db_path = db_path
        self.path = path
        self.status = QLabel()
        try:
            self.dictionary = ClinicDictionary.load(path)
        except ValueError as exc:  # a broken file: start empty, say why, keep the file until saved
            self.dictionary = ClinicDictionary()
            self.status.setText(str(exc))
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels([t("词条"), t("类别")])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.rule = QCheckBox(t("对模型未识别的完全匹配词条提出建议"))
        self.rule.setChecked(self.dictionary.rule)
        self.btn_add = QPushButton(t("添加"))
        self.btn_remove = QPushButton(t("删除"))
        self.btn_collect = QPushButton(t("从我的审核结果收集"))
        self.btn_save = QPushButton(t("保存"))
        row = QHBoxLayout()
        for b in (self.btn_add, self.btn_remove, self.btn_collect, self.btn_save):
            row.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table)
        lay.addWidget(self.rule)
        lay.addWidget(self.status)
        lay.addLayout(row)
        self.btn_add.clicked.connect(lambda: self._add_row("", LABELS[0]))
        self.btn_remove.clicked.connect(self._remove_row)
        self.btn_collect.clicked.connect(self.collect)
        self.btn_save.clicked.connect(self.save)
        for term, label in self.dictionary.pairs():
            self._add_row(term, label)
        self.resize(520, 480)

    def _add_row(self, term: str, label: str) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        self.table.setItem(r, 0, QTableWidgetItem(term))
        combo = QComboBox()
        combo.addItems(list(LABELS))
        combo.setCurrentText(label)
        self.table.setCellWidget(r, 1, combo)

    def _remove_row(self) -> None:
        r = self.table.currentRow()
        if r >= 0:
            self.table.removeRow(r)

    def rows(self) -> list[tuple[str, str]]:
        out = []
        for r in range(self.table.rowCount()):
            item = self.table.item(r, 0)
            term = item.text().strip() if item else ""
            if term:
                out.append((term, self.table.cellWidget(r, 1).currentText()))
        return out

    def collect(self) -> int:
        """Add the terms the doctor added or relabelled while reviewing (existing rows win)."""
        if not self.db_path or not Path(self.db_path).exists():
            self.status.setText(t("没有可读取的数据库"))
            return 0
        have = {term for term, _ in self.rows()}
        new = [(term, label) for term, label in terms_from_database(self.db_path) if term not in have]
        for term, label in new:
            self._add_row(term, label)
        self.status.setText(t("新增词条：") + str(len(new)))
        return len(new)

    def save(self) -> None:
        d = ClinicDictionary(rule=self.rule.isChecked())
        for term, label in self.rows():
            d.add(term, label)
        d.save(self.path)
        self.dictionary = d
        self.status.setText(t("已保存"))
        self.saved.emit()
