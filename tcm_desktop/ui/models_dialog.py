"""The model chooser: shipped and local adapted models with their cards, switch and switch back,
and "Improve the model from my corrections" running ``tcm-desktop adapt`` as a separate process.

Why a process (QProcess) and not a thread: fine-tuning takes minutes of CPU in
torch, must be cancellable at any moment (kill), and the app itself never
imports torch. The process prints one JSON line per step; the dialog shows them,
and when it ends it selects the new model and shows its card (old vs new) so the
doctor decides whether to switch. Which model is used lives in
:mod:`tcm_desktop.local_models` (Qt-free).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QProcess, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
)

from tcm_desktop import local_models
from tcm_desktop.ui.i18n import t

EVENT_TEXT = {"data": "读取已审核病历", "base": "准备基础模型", "train": "训练中", "export": "导出并校验模型",
              "compare": "新旧模型对比", "done": "完成"}


def training_available() -> bool:
    """torch importable in this Python (never in the packaged app, which ships without it)."""
    import importlib.util

    return not getattr(sys, "frozen", False) and importlib.util.find_spec("torch") is not None


class ModelsDialog(QDialog):
    """Lists models; ``model_changed`` is emitted with the new model folder after a switch."""

    model_changed = Signal(str)

    def __init__(self, db_path: Path | str, parent=None, program: list[str] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(t("模型"))
        self.db_path = str(db_path)
        # the adapt command line (tests pass a short stand-in program)
        self.program = program or [sys.executable, "-m", "tcm_desktop.training.adapt", "--db", self.db_path]
        self.process: QProcess | None = None
        self.list = QListWidget()
        self.card = QTextBrowser()
        self.status = QLabel()
        self.btn_use = QPushButton(t("使用此模型"))
        self.btn_improve = QPushButton(t("用我的审核结果改进模型"))
        self.btn_cancel = QPushButton(t("取消训练"))
        self.btn_cancel.setEnabled(False)
        row = QHBoxLayout()
        for b in (self.btn_use, self.btn_improve, self.btn_cancel):
            row.addWidget(b)
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(self.list, 1)
        top.addWidget(self.card, 2)
        lay.addLayout(top)
        lay.addWidget(self.status)
        lay.addLayout(row)
        self.list.currentItemChanged.connect(self._show_card)
        self.btn_use.clicked.connect(self.use_selected)
        self.btn_improve.clicked.connect(self.improve)
        self.btn_cancel.clicked.connect(self.cancel)
        self.resize(900, 520)
        self.refresh()

    def refresh(self, select: str | None = None) -> None:
        active = local_models.active_name()
        self.list.clear()
        for e in local_models.list_models():
            label = (t("随附模型") if e.shipped else e.name) + f"  ({e.version})" + ("  ✓" if e.name == active else "")
            item = QListWidgetItem(label)
            item.setData(256, e.name)
            item.setData(257, e.card or t("（无模型说明）"))
            self.list.addItem(item)
            if e.name == (select or active):
                self.list.setCurrentItem(item)

    def selected_name(self) -> str | None:
        item = self.list.currentItem()
        return item.data(256) if item else None

    def _show_card(self, item: QListWidgetItem | None, _prev=None) -> None:
        self.card.setMarkdown(item.data(257) if item else "")

    def use_selected(self) -> None:
        name = self.selected_name()
        if not name:
            return
        local_models.set_active(name)
        self.refresh()
        self.status.setText(t("已切换模型：") + name)
        self.model_changed.emit(str(local_models.active_model_dir()))

    # -- adaptation in a separate process ------------------------------------------
    def improve(self) -> None:
        if self.process is not None:
            return
        if self.program[0] == sys.executable and not training_available():
            self.status.setText(t("改进模型需要安装训练组件：") + " pip install 'tcm-desktop[train]'")
            return
        p = QProcess(self)
        p.setProcessChannelMode(QProcess.ProcessChannelMode.SeparateChannels)
        p.readyReadStandardOutput.connect(self._on_output)
        p.finished.connect(self._on_finished)
        self.process = p
        self._stderr = ""
        self._new_model: str | None = None
        self.btn_improve.setEnabled(False)
        self.btn_cancel.setEnabled(True)
        self.status.setText(t("训练已开始…"))
        p.start(self.program[0], self.program[1:])

    def _on_output(self) -> None:
        if self.process is None:
            return
        for line in bytes(self.process.readAllStandardOutput()).decode("utf-8", "replace").splitlines():
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            name = ev.get("event", "")
            if name in EVENT_TEXT:
                self.status.setText(t(EVENT_TEXT[name]) + (f" ({ev['reason']})" if ev.get("reason") else ""))
            elif name == "step":
                self.status.setText(t("训练中") + f" step {ev.get('step')}")
            if name == "done" and ev.get("out"):
                self._new_model = Path(ev["out"]).name

    def _on_finished(self, code: int, _status=None) -> None:
        p, self.process = self.process, None
        if p is not None:
            self._stderr = bytes(p.readAllStandardError()).decode("utf-8", "replace").strip()
        self.btn_improve.setEnabled(True)
        self.btn_cancel.setEnabled(False)
        if self._new_model:
            self.refresh(select=self._new_model)
            self.status.setText(t("新模型已生成，请查看对比后决定是否使用"))
        elif code != 0:
            last = self._stderr.splitlines()[-1] if self._stderr else t("训练已取消")
            self.status.setText(last)

    def cancel(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.status.setText(t("训练已取消"))
