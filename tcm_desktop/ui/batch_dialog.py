"""Batch import: structure a folder of records (``*.txt`` one per file, ``*.jsonl`` one per line) into the database.

Why a non-modal window with a log: a folder can hold thousands of records; the
doctor keeps working in the main window while it runs (the window never takes
the keyboard from it), sees progress from the first record, and gets one log
line per file or line: saved, skipped and why (a reviewed record is never
replaced, see :func:`tcm_desktop.review_merge.import_decision`), or which line
could not be read. A cancel keeps what was already saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from tcm_desktop.records.service import import_folder
from tcm_desktop.ui.i18n import t
from tcm_desktop.ui.windows import init_tool_window
from tcm_desktop.ui.workers import Task, WorkerPool

#: Log wording of the import's reason codes.
REASONS = {
    "new": "新病历", "merged": "已合并到已保存的病历（审核结果保留）", "unchanged": "与已保存的相同",
    "reviewed_text_differs": "已审核的病历文本不同，未覆盖", "new_version": "新版本（原病历尚未审核）",
    "unreadable": "无法读取（不是 UTF-8 文本？）", "empty": "空文件", "bad_json": "不是有效的 JSON",
    "no_text": "缺少 text 或为空",
}
OUTCOMES = {"saved": "已保存", "skipped": "已跳过", "error": "错误"}


class BatchDialog(QDialog):
    imported = Signal(object)  # the summary, once a batch ends (saved ids, skipped ids, cancelled)

    def __init__(self, engine: Any, db_path: Path, pool: WorkerPool, user: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        init_tool_window(self, "batchDialog", t("批量导入"), (640, 420))
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.engine, self.db_path, self.pool, self.user = engine, Path(db_path), pool, user
        self.worker: Task | None = None
        self.summary: dict[str, Any] | None = None
        self.entries: list[dict[str, Any]] = []
        self.folder = QLineEdit()
        self.folder.setPlaceholderText(t("包含 .txt 或 .jsonl 病历的文件夹"))
        self.browse = QPushButton(t("浏览…"))
        self.browse.clicked.connect(self.choose_folder)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse)
        self.progress = QProgressBar()
        self.progress.setValue(0)
        self.status = QLabel(t("选择文件夹后点击“开始”"))
        self.status.setObjectName("batchStatus")
        self.status.setWordWrap(True)
        self.log = QPlainTextEdit()
        self.log.setObjectName("batchLog")
        self.log.setReadOnly(True)
        self.log.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.start_btn = QPushButton(t("开始"))
        self.cancel_btn = QPushButton(t("取消"))
        self.close_btn = QPushButton(t("关闭"))
        self.cancel_btn.setEnabled(False)
        self.start_btn.clicked.connect(self.start)
        self.cancel_btn.clicked.connect(self.cancel)
        self.close_btn.clicked.connect(self.hide)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.start_btn, self.cancel_btn, self.close_btn):
            buttons.addWidget(b)
        lay = QVBoxLayout(self)
        lay.addLayout(row)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addWidget(self.log, 1)
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
        self.entries = []
        self.log.clear()
        self.progress.setRange(0, 0)  # busy until the first record is counted
        self.worker = Task(import_folder, self.engine, self.db_path, folder, self.user, report_when_cancelled=True)
        self.worker.progress.connect(self._on_progress)
        self.worker.result.connect(self._on_result)
        self.worker.error.connect(self._on_error)
        self.worker.finished.connect(self._on_finished)
        self.start_btn.setEnabled(False)
        self.folder.setReadOnly(True)
        self.browse.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.status.setText(t("正在分析第一条病历…"))
        self.pool.start(self.worker)
        parent = self.parentWidget()
        if parent is not None:  # the doctor goes on working in the main window
            parent.activateWindow()
        return True

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.status.setText(t("正在取消…"))

    @property
    def running(self) -> bool:
        return self.worker is not None

    def _on_progress(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)
        done, total = entry["done"], entry["total"]
        if entry["outcome"] != "error":
            self.progress.setRange(0, max(total, 1))
            self.progress.setValue(done)
            self.status.setText(t("已处理 %1 / %2").replace("%1", str(done)).replace("%2", str(total)))
        reason = t(REASONS.get(entry["reason"], entry["reason"]))
        if entry.get("detail"):
            reason += f"（{entry['detail']}）"
        ident = f" [{entry['id']}]" if entry["id"] and entry["id"] not in entry["source"] else ""
        self.log.appendPlainText(f"{entry['source']}{ident}：{t(OUTCOMES[entry['outcome']])} — {reason}")

    def _on_result(self, summary: dict[str, Any]) -> None:
        self.summary = summary
        n, total = len(summary["saved"]), summary["total"]
        msg = t("已取消：已保存 %1 / %2 条") if summary["cancelled"] else t("完成：已保存 %1 / %2 条")
        msg = msg.replace("%1", str(n)).replace("%2", str(total))
        if summary["skipped"] or summary["errors"]:
            msg += t("；跳过 %1 条，错误 %2 处").replace("%1", str(len(summary["skipped"]))).replace(
                "%2", str(summary["errors"]))
        self.status.setText(msg)
        self.imported.emit(summary)

    def _on_error(self, message: str) -> None:
        self.status.setText(t("导入失败：") + message)

    def _on_finished(self) -> None:
        self.worker = None
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
        self.start_btn.setEnabled(True)
        self.folder.setReadOnly(False)
        self.browse.setEnabled(True)
        self.cancel_btn.setEnabled(False)

    def closeEvent(self, event) -> None:  # noqa: ANN001
        if self.worker is not None:
            self.worker.cancel()
        super().closeEvent(event)
