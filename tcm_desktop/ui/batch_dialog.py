"""Batch import: structure a folder of records (``*.txt`` one per file, ``*.jsonl`` one per line) into the database.

Why a worker with cancel: a folder can hold thousands of records; the dialog
stays responsive, shows progress, and a cancel keeps what was already saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tcm_desktop.records.service import import_folder
from tcm_desktop.ui.i18n import t
from tcm_desktop.ui.workers import Task, WorkerPool


class BatchDialog(QDialog):
    def __init__(self, engine: Any, db_path: Path, pool: WorkerPool, user: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("batchDialog")
        self.setWindowTitle(t("批量导入"))
        self.resize(560, 200)
        self.engine, self.db_path, self.pool, self.user = engine, Path(db_path), pool, user
        self.worker: Task | None = None
        self.summary: dict[str, Any] | None = None
        self.folder = QLineEdit()
        self.folder.setPlaceholderText(t("包含 .txt 或 .jsonl 病历的文件夹"))
        browse = QPushButton(t("浏览…"))
        browse.clicked.connect(self.choose_folder)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        self.progress = QProgressBar()
        self.progress.setValue(0)
        self.status = QLabel(t("选择文件夹后点击“开始”"))
        self.status.setObjectName("batchStatus")
        self.status.setWordWrap(True)
        self.start_btn = QPushButton(t("开始"))
        self.cancel_btn = QPushButton(t("取消"))
        self.close_btn = QPushButton(t("关闭"))
        self.cancel_btn.setEnabled(False)
        self.start_btn.clicked.connect(self.start)
        self.cancel_btn.clicked.connect(self.cancel)
        self.close_btn.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.start_btn, self.cancel_btn, self.close_btn):
            buttons.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addLayout(buttons)

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, t("选择文件夹"))
        if path:
            self.folder.setText(path)

    def start(self) -> bool:
        folder = Path(self.folder.text().strip())
        if not self.folder.text().strip() or not folder.is_dir():
            self.status.setText(t("文件夹不存在"))
            return False
        if self.engine is None:
            self.status.setText(t("模型尚未加载完成，请稍候"))
            return False
        self.summary = None
        self.worker = Task(import_folder, self.engine, self.db_path, folder, self.user, report_when_cancelled=True)
        self.worker.progress.connect(self._on_progress)
        self.worker.result.connect(self._on_result)
        self.worker.error.connect(self._on_error)
        self.worker.finished.connect(self._on_finished)
        self.start_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.close_btn.setEnabled(False)
        self.status.setText(t("正在分析…"))
        self.pool.start(self.worker)
        return True

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.status.setText(t("正在取消…"))

    @property
    def running(self) -> bool:
        return self.worker is not None

    def _on_progress(self, step: tuple[int, int]) -> None:
        done, total = step
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.status.setText(t("已保存 %1 / %2").replace("%1", str(done)).replace("%2", str(total)))

    def _on_result(self, summary: dict[str, Any]) -> None:
        self.summary = summary
        n, total = len(summary["saved"]), summary["total"]
        msg = t("已取消：已保存 %1 / %2 条") if summary["cancelled"] else t("完成：已保存 %1 / %2 条")
        text = msg.replace("%1", str(n)).replace("%2", str(total))
        if summary.get("unchanged"):
            text += "；" + t("%n 条已在库中，未重复保存").replace("%n", str(len(summary["unchanged"])))
        if summary.get("problems"):
            # each bad file or line is named (file:line); the others were imported
            text += "\n" + t("未能导入：") + "\n" + "\n".join(summary["problems"][:20])
            if len(summary["problems"]) > 20:
                text += "\n…"
        self.status.setText(text)

    def _on_error(self, message: str) -> None:
        self.status.setText(t("导入失败：") + message)

    def _on_finished(self) -> None:
        self.worker = None
        self.start_btn.setEnabled(True)
        self.cancel_btn.setEnabled(False)
        self.close_btn.setEnabled(True)

    def closeEvent(self, event) -> None:  # noqa: ANN001
        if self.worker is not None:
            self.worker.cancel()
        super().closeEvent(event)
