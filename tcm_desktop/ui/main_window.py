"""The main window: wires the editor, entity list, structured view, tongue panel, database and engine.

Thin on purpose: review rules live in ``review_state``, storage in
``storage``, reports/exports in their modules, long work in ``workers``. This
class only routes user actions to them and shows their results.

The engine comes from an *engine factory* (any callable returning an object
with ``structure``/``structure_many``/``version``) so tests inject a fake and
the model loads once, in the background, right after the window is shown:
the window is usable (typing, history, settings) while the model loads.
Errors appear in a banner above the editor and in the status bar, never in
modal boxes that would block a clinic workflow.

The doctor's work is never lost: leaving a record with unsaved work (New,
opening another record, closing) asks save / discard / cancel; every few
seconds the whole review state (text, entities with statuses, deleted
suggestions, patient, photo and its analysis) is autosaved as a draft, and the
newest draft is restored after a crash. Analysing again merges the fresh
output into the review (``review_merge``) as one undoable step. A batch import
runs in a non-modal window and never replaces a reviewed record's decisions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QStandardPaths, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from tcm_desktop.records.database import Database, DatabaseBusy, PhotoInput, StorageError
from tcm_desktop.records.queue import next_to_review, record_title, review_queue
from tcm_desktop.records.service import RecordService
from tcm_desktop.review_state import ReviewState
from tcm_desktop.structured import StructuredRecord
from tcm_desktop.tongue.wording import insertion, report_fields
from tcm_desktop.ui.batch_dialog import BatchDialog
from tcm_desktop.ui.entity_list import EntityList
from tcm_desktop.ui.history_dialog import HistoryDialog
from tcm_desktop.ui.i18n import LANGUAGE_LABELS, install_language, is_traditional, t
from tcm_desktop.ui.legend import Legend
from tcm_desktop.ui.lock import LOCK_MINUTES_KEY, install_lock, lock_minutes
from tcm_desktop.ui.offsets import OffsetMap
from tcm_desktop.ui.paper_panel import PaperPanel
from tcm_desktop.ui.record_editor import RecordEditor
from tcm_desktop.ui.review import ReviewController
from tcm_desktop.ui.structured_view import StructuredView
from tcm_desktop.ui.tongue.panel import TonguePanel
from tcm_desktop.ui.workers import Task, WorkerPool

EngineFactory = Callable[[], Any]
UNSAVED_KEY = "unsaved"


def load_engine(factory: EngineFactory) -> Any:
    """Build the engine and the normalisation tables the structured view recomputes with, off the UI thread
    (loading the tables takes ~0.2 s; on the UI thread the first keystroke would stall)."""
    from tcm_desktop.text.derive import default_normalizer

    engine = factory()
    default_normalizer()
    return engine


class MainWindow(QMainWindow):
    def __init__(
        self,
        engine_factory: EngineFactory,
        db: Database,
        settings: QSettings | None = None,
        autosave_ms: int = 5000,
        load_model: bool = True,
        capture_factory: Callable[[int], Any] | None = None,
        tongue_engine_factory: Callable[[], Any] | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.engine_factory = engine_factory
        self.db = db
        self.settings = settings or QSettings()
        self.engine: Any = None
        self.engine_error: str | None = None
        self.record_id: str | None = None
        self.patient_id: int | None = None
        self._analyse_worker: Task | None = None
        self._model_worker: Task | None = None
        self._saved_text = ""
        self.service = RecordService(db)
        self._saved_patient = ""
        self._saved_photo: bytes | None = None
        self._restored = False  # the state came from a draft: unsaved until saved or discarded
        self._last_draft: str | None = None  # the payload last written, to skip identical autosaves
        self._photo_sha: tuple[bytes, str] | None = None
        #: pages of the paper record on screen not yet saved with it (stored by the next save)
        self._paper_pages: list[Any] = []
        self._pages_stash: tuple[list[Any], list[dict[str, Any]]] | None = None
        self.batch_dialog: BatchDialog | None = None
        self.ask_unsaved: Callable[[], str] = self._ask_unsaved
        self._retranslators: list[Callable[[], None]] = []
        self.pool = WorkerPool(self)
        self.controller = ReviewController(self)

        self.resize(1280, 800)
        self._build_widgets(capture_factory, tongue_engine_factory)
        self._build_actions()
        for on_change in (self._update_counts, self._on_entities_changed):
            self.controller.changed.connect(on_change)
        self.tongue_panel.insertTextRequested.connect(self.insert_tongue_text)
        self.paper_panel.textReady.connect(self.load_paper_text)
        self.paper_panel.replaceRequested.connect(self.replace_paper_text)
        self.paper_panel.offsetClicked.connect(self.select_at_offset)
        self.controller.currentChanged.connect(self._on_current_for_paper)
        self.controller.message.connect(self.show_message)
        self.controller.undo_stack.indexChanged.connect(self._update_title)
        self.patient.textChanged.connect(self._update_title)
        self.editor.textChanged.connect(self._on_text_changed)
        self.editor.analyseRequested.connect(self.analyse)

        # a locked database: the save is retried every second until it goes through (the UI never waits)
        self.save_retry_timer = QTimer(self)
        self.save_retry_timer.setSingleShot(True)
        self.save_retry_timer.setInterval(1000)
        self.save_retry_timer.timeout.connect(self.save)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(autosave_ms)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()
        self._restore_unsaved_draft()
        self._update_actions()
        self._update_title()
        self.app_lock = install_lock(self, db, self.settings)  # None for a plain database
        if load_model:
            QTimer.singleShot(0, self.start_model_load)

    # -- construction -------------------------------------------------------------
    def _build_widgets(self, capture_factory: Callable[[int], Any] | None,
                       tongue_engine_factory: Callable[[], Any] | None = None) -> None:
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()

        self.patient = QLineEdit()
        self.patient.setObjectName("patientName")
        self._tr(self.patient.setPlaceholderText, "患者姓名（可选）")
        self.patient.setMaximumWidth(220)
        top = QHBoxLayout()
        patient_label = QLabel()
        self._tr(patient_label.setText, "患者：")
        top.addWidget(patient_label)
        top.addWidget(self.patient)
        top.addStretch(1)

        self.editor = RecordEditor(self.controller)
        self.legend = Legend()
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(6, 6, 6, 6)
        ll.addWidget(self.banner)
        ll.addLayout(top)
        ll.addWidget(self.editor, 1)
        ll.addWidget(self.legend)

        self.entity_list = EntityList(self.controller)
        self.structured_view = StructuredView(self.controller)
        self.tongue_panel = TonguePanel(self.pool, capture_factory=capture_factory, engine_factory=tongue_engine_factory)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("sideTabs")
        for i, (page, title) in enumerate(((self.entity_list, "实体"), (self.structured_view, "结构化"),
                                           (self.tongue_panel, "舌象"))):
            self.tabs.addTab(page, "")
            self._tr(lambda text, i=i: self.tabs.setTabText(i, text), title)
        self.paper_panel = PaperPanel(self.pool, capture_factory=capture_factory)
        self.tabs.addTab(self.paper_panel, "")
        self._tr(lambda text: self.tabs.setTabText(3, text), "纸质病历")

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([760, 500])
        self.setCentralWidget(split)

        self.model_label = QLabel(t("模型加载中…"))
        self.model_label.setObjectName("modelStatus")
        self.counts_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(180)
        self.progress.hide()
        sb = self.statusBar()
        sb.addPermanentWidget(self.counts_label)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.model_label)

    def _tr(self, setter: Callable[[str], Any], source: str) -> None:
        """Set a text now and again whenever the language changes (``source`` is the Chinese string)."""
        setter(t(source))
        self._retranslators.append(lambda: setter(t(source)))

    def retranslate(self) -> None:
        """Every text of the window in the current language (after a language switch, without restart)."""
        for fn in self._retranslators:
            fn()
        self.legend.refresh()
        self.entity_list.retranslate()
        self.structured_view.refresh()
        self._update_counts()
        self._update_undo_texts()
        self._update_title()
        self.model_label.setText(t("模型就绪") + f" {getattr(self.engine, 'version', '')}" if self.engine
                                 else t("模型不可用") if self.engine_error else t("模型加载中…"))

    def _action(self, text: str, slot: Callable[[], Any], shortcut: QKeySequence | str | None = None,
                name: str = "") -> QAction:
        a = QAction(self)
        self._tr(a.setText, text)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
        if name:
            a.setObjectName(name)
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        self.act_new = self._action("新建", self.new_record, QKeySequence.StandardKey.New, "actNew")
        self.act_history = self._action("历史记录", self.open_history, QKeySequence.StandardKey.Open, "actHistory")
        self.act_save = self._action("保存", self.save, QKeySequence.StandardKey.Save, "actSave")
        self.act_analyse = self._action("分析", self.analyse, "Ctrl+Return", "actAnalyse")
        self.act_analyse.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        self.act_cancel = self._action("取消", self.cancel_analysis, "Esc", "actCancel")
        self.act_accept_all = self._action("全部确认", self.controller.accept_all, "Ctrl+Shift+A", "actAcceptAll")
        self.act_pdf = self._action("导出 PDF", self.export_pdf, "Ctrl+P", "actPdf")
        self.act_json = self._action("导出 JSON", self.export_json, None, "actJson")
        self.act_csv = self._action("导出 CSV", self.export_csv, None, "actCsv")
        self.act_deid = self._action("导出去标识化 JSON（科研）", self.export_deidentified_json, None, "actJsonDeid")
        self.act_batch = self._action("批量导入…", self.batch_import, None, "actBatch")
        self.act_insights = self._action("诊所统计…", self.open_insights, None, "actInsights")
        self.act_settings = self._action("设置…", self.edit_settings, None, "actSettings")
        self.act_paper = self._action("从图片/PDF读取病历…", self.read_paper, None, "actPaper")
        self.act_next_record = self._action("下一个待审核病历", self.open_next_to_review, "Ctrl+Shift+N",
                                            "actNextRecord")
        self.act_next_low = self._action("下一个低置信度实体", lambda: self.controller.next_low_confidence(), "Ctrl+L",
                                         "actNextLow")
        # one undo history for text and review: the editor forwards its own Ctrl+Z to the same stack
        stack = self.controller.undo_stack
        self.act_undo = self._action("撤销", stack.undo, None, "actUndo")
        self.act_undo.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo), QKeySequence("Ctrl+Z")])
        self.act_redo = self._action("重做", stack.redo, None, "actRedo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        stack.indexChanged.connect(self._update_undo_texts)
        self._update_undo_texts()
        self.act_models = self._action("模型…", self.open_models, None, "actModels")
        self.act_dictionary = self._action("诊所词典…", self.open_dictionary, None, "actDictionary")

        tb = QToolBar()
        self._tr(tb.setWindowTitle, "工具栏")
        tb.setObjectName("mainToolbar")
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for a in (self.act_new, self.act_history, self.act_save, None, self.act_analyse, self.act_cancel, None,
                  self.act_undo, self.act_redo, self.act_accept_all, None, self.act_pdf, self.act_json, self.act_csv,
                  None, self.act_batch, self.act_settings):
            if a is None:
                tb.addSeparator()
            else:
                tb.addAction(a)
        self.addToolBar(tb)

        mb = self.menuBar()
        m = self._menu(mb, "文件")
        for a in (self.act_new, self.act_history, self.act_save, self.act_batch, self.act_insights, self.act_paper):
            m.addAction(a)
        m.addSeparator()
        for a in (self.act_pdf, self.act_json, self.act_csv, self.act_deid):
            m.addAction(a)
        m = self._menu(mb, "审核")
        for a in (self.act_analyse, self.act_cancel, self.act_undo, self.act_redo, self.act_accept_all, None,
                  self.act_next_low, self.act_next_record):
            m.addSeparator() if a is None else m.addAction(a)
        m = self._menu(mb, "设置")
        m.addAction(self.act_settings)
        m.addAction(self.act_models)
        m.addAction(self.act_dictionary)
        lang = self._menu(m, "语言")
        self._language_group = QActionGroup(self)
        self._language_group.setExclusive(True)
        for code, label in LANGUAGE_LABELS.items():
            a = lang.addAction(label)
            a.setCheckable(True)
            self._language_group.addAction(a)
            a.setChecked(str(self.settings.value("ui/language", "zh")) == code)
            a.setData(code)
            a.triggered.connect(self._on_language_action)

    def _menu(self, parent: Any, title: str) -> Any:
        m = parent.addMenu("")
        self._tr(m.setTitle, title)
        return m

    def _update_undo_texts(self, *_: object) -> None:
        stack = self.controller.undo_stack
        for act, source, text, ok in ((self.act_undo, "撤销", stack.undoText(), stack.canUndo()),
                                      (self.act_redo, "重做", stack.redoText(), stack.canRedo())):
            act.setText(t(source) + (f" {text}" if text else ""))
            act.setEnabled(ok)

    # -- messages ---------------------------------------------------------------
    def show_message(self, text: str, timeout_ms: int = 6000) -> None:
        self.statusBar().showMessage(text, timeout_ms)

    def show_error(self, text: str) -> None:
        self.banner.setStyleSheet("QLabel#banner { background: #fdecea; color: #8a1f11; border: 1px solid #f5b7b1;"
                                  " padding: 6px; }")
        self.banner.setText(text)
        self.banner.show()
        self.statusBar().showMessage(text, 10000)

    def show_info(self, text: str) -> None:
        self.banner.setStyleSheet("QLabel#banner { background: #e8f4fd; color: #0b4a6f; border: 1px solid #a9d3f5;"
                                  " padding: 6px; }")
        self.banner.setText(text)
        self.banner.show()

    def hide_banner(self) -> None:
        self.banner.hide()

    # -- model ------------------------------------------------------------------
    def start_model_load(self) -> None:
        if self.engine is not None or self._model_worker is not None:
            return
        self.model_label.setText(t("模型加载中…"))
        w = Task(load_engine, self.engine_factory)
        w.result.connect(self._on_model_loaded)
        w.error.connect(self._on_model_error)
        w.finished.connect(self._on_model_finished)
        self._model_worker = w
        self.pool.start(w)

    def open_models(self) -> None:
        """The model chooser; a switch reloads the engine in the background."""
        from tcm_desktop.ui.models_dialog import ModelsDialog

        dlg = ModelsDialog(self.db.path, self)
        dlg.model_changed.connect(self._reload_model)
        dlg.exec()

    def open_dictionary(self) -> None:
        """The clinic dictionary; saving reloads the engine so the terms apply to the next analysis."""
        from tcm_desktop.ui.dictionary_dialog import DictionaryDialog

        dlg = DictionaryDialog(self.db.path, self)
        dlg.saved.connect(lambda: self._reload_model(""))
        dlg.exec()

    def _reload_model(self, _path: str) -> None:
        if self._model_worker is not None:
            return
        self.engine = None
        self._update_actions()
        self.start_model_load()

    def _on_model_loaded(self, engine: Any) -> None:
        self.engine = engine
        self.engine_error = None
        self.model_label.setText(t("模型就绪") + f" {getattr(engine, 'version', '')}")
        self._update_actions()

    def _on_model_error(self, message: str) -> None:
        self.engine_error = message
        self.model_label.setText(t("模型不可用"))
        self.show_error(t("模型加载失败：") + message)
        self._update_actions()

    def _on_model_finished(self) -> None:
        self._model_worker = None

    # -- analysis ---------------------------------------------------------------
    @property
    def analysing(self) -> bool:
        return self._analyse_worker is not None

    def analyse(self) -> bool:
        """Run the engine on the editor's text in the background."""
        text = self.editor.text()
        if self.analysing:
            return False
        if self.engine is None:
            self.show_message(self.engine_error and t("模型不可用") or t("模型尚未加载完成，请稍候"))
            return False
        if not text.strip():
            self.show_message(t("请先输入病历文本"))
            return False
        w = Task(self.engine.structure, text, self.record_id or "")
        w.result.connect(self._on_analysed)
        w.error.connect(self._on_analyse_error)
        w.finished.connect(self._on_analyse_finished)
        self._analyse_worker = w
        self.progress.setRange(0, 0)  # busy indicator: one record has no finer progress
        self.progress.show()
        self.hide_banner()
        self.show_message(t("正在分析…"), 0)
        self._update_actions()
        self.pool.start(w)
        return True

    def cancel_analysis(self) -> None:
        if self._analyse_worker is not None:
            self._analyse_worker.cancel()
            self.progress.hide()
            self.show_message(t("已取消分析"))
            self._update_actions()

    def _on_analysed(self, record: StructuredRecord) -> None:
        if self._analyse_worker is not None and self._analyse_worker.cancelled:
            return
        current = self.editor.text()
        if current != record.text:
            # the doctor typed while the engine ran: move the suggestions onto the text on screen now
            moved = ReviewState(record.text, record.entities)
            moved.replace_text(current)
            record.text, record.entities = current, moved.entities
        reviewed = self.controller.state.reviewed
        if not self.controller.analysis_result(record):
            return
        self.editor.refresh()
        self._update_counts()
        if reviewed:
            c = self.controller.state.counts()
            kept = c["accepted"] + c["corrected"] + c["added"]
            self.show_message(t("重新分析完成：保留 %1 个已审核实体，%2 个待审核建议（Ctrl+Z 撤销）")
                              .replace("%1", str(kept)).replace("%2", str(c["unreviewed"])), 10000)
        else:
            self.show_message(t("分析完成：%n 个实体").replace("%n", str(len(self.controller.state.entities))))

    def _on_analyse_error(self, message: str) -> None:
        self.show_error(t("分析失败：") + message)

    def _on_analyse_finished(self) -> None:
        self._analyse_worker = None
        self.progress.hide()
        self._update_actions()

    # -- records ----------------------------------------------------------------
    def is_dirty(self) -> bool:
        """Whether leaving now would lose anything (text, review, patient, photo, or a restored draft)."""
        return (self._restored or not self.controller.undo_stack.isClean()
                or self.patient.text().strip() != self._saved_patient
                or self.tongue_panel.photo_bytes != self._saved_photo or bool(self._paper_pages))

    def unsaved_box(self) -> QMessageBox:
        """The save / discard / cancel question (its own method so it can be shown and tested)."""
        c = self.controller.state.counts()
        name = self.patient.text().strip() or (self.record_id[:8] if self.record_id else t("新病历"))
        box = QMessageBox(QMessageBox.Icon.Warning, t("未保存的修改"),
                          t("病历「%1」有未保存的修改：实体 %2 个，其中已审核 %3 个。离开前是否保存？")
                          .replace("%1", name).replace("%2", str(len(self.controller.state.entities)))
                          .replace("%3", str(c["accepted"] + c["corrected"] + c["added"])),
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self)
        box.setObjectName("unsavedBox")
        box.setDefaultButton(QMessageBox.StandardButton.Save)
        for button, text in ((QMessageBox.StandardButton.Save, "保存"), (QMessageBox.StandardButton.Discard, "不保存"),
                             (QMessageBox.StandardButton.Cancel, "取消")):
            box.button(button).setText(t(text))
        return box

    def _ask_unsaved(self) -> str:
        box = self.unsaved_box()
        box.exec()
        clicked = box.standardButton(box.clickedButton()) if box.clickedButton() else QMessageBox.StandardButton.Cancel
        return {QMessageBox.StandardButton.Save: "save", QMessageBox.StandardButton.Discard: "discard"}.get(
            clicked, "cancel")

    def confirm_leave(self) -> bool:
        """Before the open record is replaced: True when it is safe to go on (saved, discarded or clean)."""
        self.controller.flush()
        if not self.is_dirty():
            return True
        choice = self.ask_unsaved()
        if choice == "save":
            return self.save() is not None or not self.editor.text().strip()
        if choice == "discard":
            self.db.clear_draft(self.record_id or UNSAVED_KEY)
            self._restored = False
            return True
        return False

    def _mark_saved(self) -> None:
        """The current state is what the database holds: nothing unsaved."""
        self._saved_text = self.editor.text()
        self._saved_patient = self.patient.text().strip()
        self._saved_photo = self.tongue_panel.photo_bytes
        self._restored = False
        self._last_draft = None
        self.controller.undo_stack.setClean()
        self._update_title()

    def new_record(self, keep_paper: bool = False) -> bool:
        """An empty record; ``keep_paper`` keeps the page just read in the paper tab (it becomes this record's)."""
        if not self.confirm_leave():
            return False
        self._paper_pages = []
        if not keep_paper:
            self.paper_panel.clear()
        self.db.clear_draft(UNSAVED_KEY)
        self.record_id = None
        self.patient_id = None
        self.patient.clear()
        self.controller.reset("")
        self.editor.set_text("")
        self.tongue_panel.clear_photo()
        self.hide_banner()
        self._mark_saved()
        return True

    def current_record(self) -> StructuredRecord:
        self.controller.flush()
        rec = self.controller.state.to_record(self.record_id or "")
        if self.tongue_panel.analysis:
            rec.tongue = dict(self.tongue_panel.analysis)
        return rec

    def save(self) -> tuple[str, int] | None:
        """Save the record (patient, version, audit, photo, drafts) in one transaction via the record service.

        A database held by another program is reported and the save retried
        automatically; the record stays on screen, nothing is lost.
        """
        rec = self.current_record()
        if not rec.text.strip():
            self.show_message(t("空白病历无需保存"))
            return None
        name = self.patient.text().strip()
        user = str(self.settings.value("user/doctor", ""))
        key_before = self.record_id or UNSAVED_KEY
        photo = None
        if self.tongue_panel.photo_bytes is not None:
            photo = PhotoInput(self.tongue_panel.photo_bytes, self.tongue_panel.analysis or None,
                               self.tongue_panel.model_version)
        try:
            # a changed patient name is another patient (a new row), never a rename of the saved one
            pid = self.patient_id if name == self._saved_patient else None
            res = self.service.save(rec, patient_name=name or None, patient_id=pid, user=user,
                                    actions=self.controller.state.log, photo=photo, clear_drafts=[key_before],
                                    pages=self._paper_pages)
        except DatabaseBusy:
            self.show_error(t("数据库正被其他程序占用，记录尚未保存；将每秒自动重试，请勿关闭窗口。"))
            self.save_retry_timer.start()
            return None
        except StorageError as exc:
            self.save_retry_timer.stop()
            self.show_error(t("保存失败：") + str(exc))
            return None
        self.save_retry_timer.stop()
        self.hide_banner()
        self.controller.state.log.clear()
        self._paper_pages = []  # stored with the record now
        self.record_id = res.record_id
        if name:
            self.patient_id = (self.db.record_info(res.record_id) or {}).get("patient_id")
        self._mark_saved()
        self.show_message(t("已保存（第 %n 版）").replace("%n", str(res.version)))
        return res.record_id, res.version

    def open_record(self, record_id: str, version: int | None = None, ask: bool = True) -> bool:
        """Show a saved record (asking first when the open one has unsaved work); its draft comes back too."""
        if ask and not self.confirm_leave():
            return False
        try:
            if ask:
                self.db.clear_draft(self.record_id or UNSAVED_KEY)
            opened = self.service.open(record_id, version)
        except StorageError as exc:
            self.show_error(t("无法打开记录：") + str(exc))
            return False
        rec = opened.record
        self.record_id = record_id
        self.patient_id = opened.patient_id
        self.patient.setText(opened.patient_name)
        self.controller.load(rec, analysed=bool(rec.entities))
        self.editor.set_text(rec.text)
        if opened.photo is not None:
            self.tongue_panel.set_photo(opened.photo, opened.photo_analysis)
        else:
            self.tongue_panel.clear_photo()
        self._paper_pages = []
        self.paper_panel.show_pages(opened.pages)
        self.hide_banner()
        self._mark_saved()
        self.restore_draft(record_id)
        self._update_counts()
        return True

    def open_history(self) -> None:
        dlg = HistoryDialog(self.db, self)
        dlg.current_record_id = self.record_id
        accepted = dlg.exec() == QDialog.DialogCode.Accepted
        if self.record_id in dlg.deleted:  # the record on screen was deleted: start a new one
            self._mark_saved()
            self.record_id = None
            self.new_record()
        if accepted and dlg.chosen_record_id:
            self.open_record(dlg.chosen_record_id)

    def open_next_to_review(self) -> bool:
        """The next saved record that still has unreviewed entities (after the open one)."""
        nxt = next_to_review(review_queue(self.db), self.record_id)
        if nxt is None:
            self.show_message(t("所有病历均已审核完毕"))
            return False
        return self.open_record(nxt.record_id)

    # -- tongue photo ----------------------------------------------------------------
    def _on_entities_changed(self) -> None:
        """The photo is compared with the record's current TONGUE/COATING entities."""
        self.tongue_panel.set_record(list(self.controller.state.entities), self.editor.text())

    def insert_tongue_text(self, snippet: str) -> bool:
        """Insert the photo's suggested description into the editor as an ordinary edit.

        Goes through the editor's document like typing: the editor's undo (Ctrl+Z) removes it,
        entities after it shift and the record is marked changed. Placed at the cursor, else
        after a 舌脉/舌象 heading, else at the end (:func:`tcm_desktop.tongue.wording.insertion`).
        """
        text = self.editor.text()
        omap = OffsetMap(text)
        cur = self.editor.textCursor()
        at = None if cur.hasSelection() else omap.to_py(cur.position())
        pos, piece = insertion(text, at, snippet)
        if not piece:
            return False
        c = QTextCursor(self.editor.document())
        c.setPosition(omap.to_qt(pos))
        c.insertText(piece)
        self.editor.setTextCursor(c)
        self.editor.setFocus()
        self.show_message(t("已插入舌象描述（Ctrl+Z 撤销）；重新分析后会与照片核对"))
        return True

    # -- records on paper ---------------------------------------------------------
    def read_paper(self, path: str | Path | None = None) -> bool:
        """Open a page photo, scan or PDF in the paper tab; the text lands in a new record when read."""
        self.tabs.setCurrentWidget(self.paper_panel)
        if path is None:
            self.paper_panel.choose_file()
            return self.paper_panel.busy
        return self.paper_panel.open_file(path)

    def load_paper_text(self, text: str) -> None:
        """A page was read: its text becomes a new record, and its pages are saved with it."""
        if not self.new_record(keep_paper=True):  # the doctor kept the open record: the page is not its
            self.paper_panel.clear()
            return
        self._paper_pages = list(self.paper_panel.pages)
        self.controller.reset(text)
        self.editor.set_text(text)
        self._restored = True  # unsaved until saved or discarded
        self.show_message(t("已读入纸质病历；请核对橙框标出的低置信度字符"))
        if self.engine is not None:
            self.analyse()

    def replace_paper_text(self, start: int, end: int, piece: str) -> None:
        """A correction applied or undone: an ordinary edit of the editor (same length, entities keep their place)."""
        text = self.editor.text()
        if end > len(text):
            return
        omap = OffsetMap(text)
        c = QTextCursor(self.editor.document())
        c.setPosition(omap.to_qt(start))
        c.setPosition(omap.to_qt(end), QTextCursor.MoveMode.KeepAnchor)
        c.insertText(piece)

    def select_at_offset(self, offset: int) -> None:
        """A character clicked on the page: make the entity holding it current, else put the cursor there."""
        for i, e in enumerate(self.controller.state.entities):
            if e.start <= offset < e.end:
                self.controller.set_current(i)
                return
        c = self.editor.textCursor()
        c.setPosition(OffsetMap(self.editor.text()).to_qt(offset))
        self.editor.setTextCursor(c)

    def _on_current_for_paper(self, index: int) -> None:
        ents = self.controller.state.entities
        if 0 <= index < len(ents) and self.paper_panel.doc is not None:
            self.paper_panel.highlight(ents[index].start, ents[index].end)
        else:
            self.paper_panel.highlight(0, 0)

    # -- drafts -----------------------------------------------------------------
    def _on_text_changed(self) -> None:
        self.tongue_panel.set_record_text(self.editor.text())
        self._update_title()

    def draft_state(self) -> dict[str, Any]:
        """Everything needed to bring the open record back exactly (JSON-able).

        Reads the state directly (no ``flush``): an autosave while the doctor types must not force a redraw.
        """
        rec = self.controller.state.to_record(self.record_id or "")
        if self.tongue_panel.analysis:
            rec.tongue = dict(self.tongue_panel.analysis)
        photo = self.tongue_panel.photo_bytes
        sha = None
        if photo is not None:
            if self._photo_sha is None or self._photo_sha[0] is not photo:
                self._photo_sha = (photo, self.db.add_photo(photo))
            sha = self._photo_sha[1]
        if self._pages_stash is None or self._pages_stash[0] is not self._paper_pages:
            self._pages_stash = (self._paper_pages, self.service.stash_pages(self._paper_pages))
        return {"record_id": self.record_id, "patient": self.patient.text(), "patient_id": self.patient_id,
                "record": rec.to_dict(), "photo_sha256": sha, "tongue": self.tongue_panel.analysis,
                "tongue_model_version": self.tongue_panel.model_version, "paper_pages": self._pages_stash[1]}

    def autosave(self) -> bool:
        """Write the whole review state to the drafts table when there is unsaved work that changed."""
        key = self.record_id or UNSAVED_KEY
        if not self.is_dirty():
            if self._last_draft is not None:
                self.db.clear_draft(key)
                self._last_draft = None
            return False
        state = self.draft_state()
        payload = json.dumps(state, ensure_ascii=False, sort_keys=True)
        if payload == self._last_draft:
            return False
        try:
            self.db.save_draft(key, self.editor.text(), state)
        except StorageError:
            return False  # busy: the next autosave tries again
        self._last_draft = payload
        return True

    def restore_draft(self, key: str) -> bool:
        """Bring back an autosaved draft (the whole state, or the text of an old text-only draft)."""
        draft = self.db.load_draft(key)
        if draft is None:
            return False
        state = self.db.load_draft_state(key)
        when = draft[1].replace("T", " ")[:19]
        if state is None:
            if not draft[0].strip() or draft[0] == self.editor.text():
                return False
            self.editor.setPlainText(draft[0])  # an old text-only draft: entities shift/drop as for typing
        else:
            rec = StructuredRecord.from_dict(state["record"])
            self.record_id = state.get("record_id") or None
            self.patient_id = state.get("patient_id")
            self.patient.setText(state.get("patient") or "")
            self.controller.load(rec, analysed=bool(rec.entities))
            self.editor.set_text(rec.text)
            photo = self.db.photo_bytes(state["photo_sha256"]) if state.get("photo_sha256") else None
            if photo is not None:
                self.tongue_panel.set_photo(photo, state.get("tongue"))
            elif self._saved_photo is None:
                self.tongue_panel.clear_photo()
            if state.get("paper_pages"):  # pages read but not yet saved with the record
                self._paper_pages = self.service.stashed_pages(state["paper_pages"])
                self.paper_panel.show_pages(self._paper_pages, saved=False)
        self._restored = True
        self._update_title()
        self._update_counts()
        self.show_info(t("已恢复未保存的工作（%1）：保存以保留，或新建时选择不保存").replace("%1", when))
        return True

    def _restore_unsaved_draft(self) -> None:
        """After a crash (or a close without saving): offer back the newest draft."""
        for d in self.db.drafts():
            key = d["key"]
            if key != UNSAVED_KEY and not self.db.record_exists(key):
                continue
            if key != UNSAVED_KEY:
                self.open_record(key, ask=False)
                if self._restored:
                    return
                continue
            if self.restore_draft(key):
                return

    # -- exports ----------------------------------------------------------------
    def export_name(self, suffix: str) -> Path:
        """Default export path: the export folder (last used, else Documents) / patient_title_date.suffix."""
        folder = str(self.settings.value("export/folder", "")) or QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())
        rec = self.controller.state.to_record(self.record_id or "")
        title = record_title(rec, self.patient.text().strip(), limit=30) if rec.text.strip() else t("病历")
        safe = re.sub(r'[\\/:*?"<>|\s·]+', "_", title).strip("_") or t("病历")
        return Path(folder) / f"{safe}_{date.today().isoformat()}.{suffix}"

    def _ask_path(self, title: str, suffix: str, filt: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, title, str(self.export_name(suffix)), filt)
        if path:
            self.settings.setValue("export/folder", str(Path(path).parent))
        return path or None

    def export_pdf(self, path: str | Path | None = None) -> Path | None:
        from tcm_desktop.records.report_pdf import write_report

        path = path or self._ask_path(t("导出 PDF"), "pdf", "PDF (*.pdf)")
        if not path:
            return None
        rec = self.service.refreshed(self.current_record())
        photo = self.tongue_panel.photo_bytes  # passed as bytes: no clear copy in a temp file
        name = self.patient.text().strip()
        try:
            out = write_report(path, rec, clinic=str(self.settings.value("user/clinic", "")),
                               patient={"name": name} if name else None,
                               doctor=str(self.settings.value("user/doctor", "")), photo_path=photo,
                               tongue=report_fields(rec.tongue) if rec.tongue else None,
                               script="traditional" if is_traditional() else "auto")
        except Exception as exc:  # noqa: BLE001 - a failed export is reported, the record is untouched
            self.show_error(t("导出失败：") + str(exc))
            return None
        self.show_message(t("已导出：") + str(out))
        return out

    def export_json(self, path: str | Path | None = None) -> Path | None:
        from tcm_desktop.records.exports import write_json

        return self._export_file(write_json, path or self._ask_path(t("导出 JSON"), "json", "JSON (*.json)"))

    def export_csv(self, path: str | Path | None = None) -> Path | None:
        from tcm_desktop.records.exports import write_csv

        return self._export_file(write_csv, path or self._ask_path(t("导出 CSV"), "csv", "CSV (*.csv)"))

    def _export_file(self, write: Callable[[str | Path, StructuredRecord], Path],
                     path: str | Path | None) -> Path | None:
        """Write the current record (refreshed) with ``write``; a failure is one message, the target unchanged."""
        if not path:
            return None
        try:
            out = write(path, self.service.refreshed(self.current_record()))
        except OSError as exc:  # the target is unchanged: exports are written to a temporary file, then renamed
            self.show_error(t("导出失败：") + str(exc.strerror or exc))
            return None
        self.show_message(t("已导出：") + str(out))
        return out

    def export_deidentified_json(self, path: str | Path | None = None) -> Path | None:
        """The record for research: names, numbers, addresses… replaced, offsets recomputed (records/deidentify)."""
        from tcm_desktop.records.deidentify import Deidentifier
        from tcm_desktop.records.exports import write_json

        path = path or self._ask_path(t("导出去标识化 JSON（科研）"), "json", "JSON (*.json)")
        if not path:
            return None
        record, _ = Deidentifier().record(self.current_record(), self.patient.text().strip())
        out = write_json(path, record)
        self.show_message(t("已导出：") + str(out))
        return out

    # -- batch / settings -----------------------------------------------------------
    def make_batch_dialog(self) -> BatchDialog:
        dlg = BatchDialog(self.engine, self.db.path, self.pool, str(self.settings.value("user/doctor", "")), self)
        dlg.imported.connect(self._on_batch_imported)
        return dlg

    def open_insights(self) -> None:
        """The clinic-insights window (non-modal), mining the database in the background."""
        from tcm_desktop.ui.insights_window import InsightsWindow

        self.insights_window = InsightsWindow(self.db.path, self.pool, self.current_record, self.open_record, self)
        self.insights_window.show()
        self.insights_window.mine()

    def batch_import(self) -> BatchDialog:
        """Open the (non-modal) batch window; the main window stays usable while it runs."""
        if self.batch_dialog is None:
            self.batch_dialog = self.make_batch_dialog()
        self.batch_dialog.engine = self.engine
        self.batch_dialog.show()
        self.batch_dialog.raise_()
        return self.batch_dialog

    def _on_batch_imported(self, summary: dict[str, Any]) -> None:
        """A batch saved new versions: show the open record's new version unless the doctor has unsaved work."""
        if self.record_id and self.record_id in summary.get("saved", []):
            if self.is_dirty():
                self.show_info(t("批量导入更新了此病历（已保留审核结果）；保存前请注意，重新打开可查看新版本"))
            else:
                self.open_record(self.record_id, ask=False)
                self.show_info(t("批量导入更新了此病历，已显示新版本（审核结果已保留）"))

    def edit_settings(self) -> None:
        dlg = QDialog(self)
        dlg.setWindowTitle(t("设置"))
        form = QFormLayout(dlg)
        clinic = QLineEdit(str(self.settings.value("user/clinic", "")))
        doctor = QLineEdit(str(self.settings.value("user/doctor", "")))
        form.addRow(t("诊所名称"), clinic)
        form.addRow(t("医师姓名"), doctor)
        minutes = QSpinBox()
        minutes.setRange(0, 240)
        minutes.setSpecialValueText(t("从不"))
        minutes.setValue(int(lock_minutes(self.settings)))
        form.addRow(t("空闲自动锁定（分钟，需加密数据库）"), minutes)
        bb = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        bb.accepted.connect(dlg.accept)
        bb.rejected.connect(dlg.reject)
        form.addRow(bb)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.settings.setValue("user/clinic", clinic.text().strip())
            self.settings.setValue("user/doctor", doctor.text().strip())
            self.settings.setValue(LOCK_MINUTES_KEY, minutes.value())
            if self.app_lock is not None:
                self.app_lock.watcher.set_timeout(minutes.value() * 60_000)

    def _on_language_action(self) -> None:
        act = self.sender()
        code = act.data() if isinstance(act, QAction) else "zh"
        self.set_language(code)

    def set_language(self, code: str) -> None:
        """Switch the UI language now: translators swapped, every text of the window set again."""
        self.settings.setValue("ui/language", code)
        install_language(code)
        self.retranslate()
        self.show_message(t("界面语言已切换"))

    # -- state display ----------------------------------------------------------
    def _update_actions(self) -> None:
        busy = self.analysing
        self.act_analyse.setEnabled(self.engine is not None and not busy)
        self.act_cancel.setEnabled(busy)
        self.act_batch.setEnabled(self.engine is not None and not busy)

    def _update_counts(self) -> None:
        c = self.controller.state.counts()
        n = len(self.controller.state.entities)
        if n == 0:
            self.counts_label.setText("")
            return
        self.counts_label.setText(
            t("实体 %1 · 未审核 %2 · 已确认 %3 · 已修改 %4 · 新增 %5")
            .replace("%1", str(n)).replace("%2", str(c["unreviewed"])).replace("%3", str(c["accepted"]))
            .replace("%4", str(c["corrected"])).replace("%5", str(c["added"]))
        )

    def _update_title(self, *_: object) -> None:
        dirty = self.is_dirty()
        name = self.record_id[:8] if self.record_id else t("新病历")
        self.setWindowTitle(f"{'*' if dirty else ''}{name} — {t('中医病历结构化')}")

    def closeEvent(self, event: QCloseEvent) -> None:
        try:
            self.autosave()
            leave = self.confirm_leave()
        except StorageError as exc:  # the database went away (closed, removed): say so, never crash on close
            self.show_error(t("保存失败：") + str(exc))
            leave = True
        if not leave:
            event.ignore()
            return
        if self.batch_dialog is not None:
            self.batch_dialog.close()
        self.tongue_panel.stop_camera()
        self.pool.shutdown()
        super().closeEvent(event)
