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
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QSpinBox,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from tcm_desktop.records.database import Database
from tcm_desktop.structured import StructuredRecord
from tcm_desktop.tongue.wording import insertion, report_fields
from tcm_desktop.ui.batch_dialog import BatchDialog
from tcm_desktop.ui.entity_list import EntityList
from tcm_desktop.ui.history_dialog import HistoryDialog
from tcm_desktop.ui.i18n import t
from tcm_desktop.ui.legend import Legend
from tcm_desktop.ui.lock import LOCK_MINUTES_KEY, install_lock, lock_minutes
from tcm_desktop.ui.offsets import OffsetMap
from tcm_desktop.ui.record_editor import RecordEditor
from tcm_desktop.ui.review import ReviewController
from tcm_desktop.ui.structured_view import StructuredView
from tcm_desktop.ui.tongue.panel import TonguePanel
from tcm_desktop.ui.workers import Task, WorkerPool

EngineFactory = Callable[[], Any]
UNSAVED_KEY = "unsaved"


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
        self._draft_dirty = False
        self._saved_text = ""
        self.pool = WorkerPool(self)
        self.controller = ReviewController(self)

        self.setWindowTitle(t("中医病历结构化"))
        self.resize(1280, 800)
        self._build_widgets(capture_factory, tongue_engine_factory)
        self._build_actions()
        self.controller.changed.connect(self._update_counts)
        self.controller.changed.connect(self._on_entities_changed)
        self.tongue_panel.insertTextRequested.connect(self.insert_tongue_text)
        self.controller.message.connect(self.show_message)
        self.controller.undo_stack.cleanChanged.connect(self._update_title)
        self.editor.textChanged.connect(self._on_text_changed)
        self.editor.analyseRequested.connect(self.analyse)

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
        self.patient.setPlaceholderText(t("患者姓名（可选）"))
        self.patient.setMaximumWidth(220)
        top = QHBoxLayout()
        top.addWidget(QLabel(t("患者：")))
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
        self.tabs.addTab(self.entity_list, t("实体"))
        self.tabs.addTab(self.structured_view, t("结构化"))
        self.tabs.addTab(self.tongue_panel, t("舌象"))

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

    def _action(self, text: str, slot: Callable[[], Any], shortcut: QKeySequence | str | None = None,
                name: str = "") -> QAction:
        a = QAction(t(text), self)
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
        self.act_settings = self._action("设置…", self.edit_settings, None, "actSettings")
        self.act_models = self._action("模型…", self.open_models, None, "actModels")
        self.act_dictionary = self._action("诊所词典…", self.open_dictionary, None, "actDictionary")
        self.act_undo = self.controller.undo_stack.createUndoAction(self, t("撤销"))
        self.act_undo.setShortcut(QKeySequence("Ctrl+Shift+Z"))
        self.act_redo = self.controller.undo_stack.createRedoAction(self, t("重做"))
        self.act_redo.setShortcut(QKeySequence("Ctrl+Shift+Y"))

        tb = QToolBar(t("工具栏"))
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
        m = mb.addMenu(t("文件"))
        for a in (self.act_new, self.act_history, self.act_save, self.act_batch):
            m.addAction(a)
        m.addSeparator()
        for a in (self.act_pdf, self.act_json, self.act_csv, self.act_deid):
            m.addAction(a)
        m = mb.addMenu(t("审核"))
        for a in (self.act_analyse, self.act_cancel, self.act_undo, self.act_redo, self.act_accept_all):
            m.addAction(a)
        m = mb.addMenu(t("设置"))
        m.addAction(self.act_settings)
        m.addAction(self.act_models)
        m.addAction(self.act_dictionary)
        lang = m.addMenu(t("语言"))
        for code, label in (("zh", "中文"), ("en", "English")):
            a = lang.addAction(label)
            a.setCheckable(True)
            a.setChecked(str(self.settings.value("ui/language", "zh")) == code)
            a.setData(code)
            a.triggered.connect(self._on_language_action)

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
        w = Task(self.engine_factory)
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
        self.controller.load(record)
        if current != record.text:
            # the doctor typed while the engine ran: shift/drop against what is on screen now
            self.controller.text_edited(current)
        self.editor.refresh()
        self._update_counts()
        self.show_message(t("分析完成：%n 个实体").replace("%n", str(len(self.controller.state.entities))))

    def _on_analyse_error(self, message: str) -> None:
        self.show_error(t("分析失败：") + message)

    def _on_analyse_finished(self) -> None:
        self._analyse_worker = None
        self.progress.hide()
        self._update_actions()

    # -- records ----------------------------------------------------------------
    def new_record(self) -> None:
        self.autosave()
        self.record_id = None
        self.patient_id = None
        self.patient.clear()
        self.controller.reset("")
        self.editor.set_text("")
        self.tongue_panel.clear_photo()
        self._saved_text = ""
        self._draft_dirty = False
        self.hide_banner()
        self._update_title()

    def current_record(self) -> StructuredRecord:
        rec = self.controller.state.to_record(self.record_id or "")
        if self.tongue_panel.analysis:
            rec.tongue = dict(self.tongue_panel.analysis)
        return rec

    def save(self) -> tuple[str, int] | None:
        rec = self.current_record()
        if not rec.text.strip():
            self.show_message(t("空白病历无需保存"))
            return None
        name = self.patient.text().strip()
        if name and self.patient_id is None:
            self.patient_id = self.db.add_patient(name)
        user = str(self.settings.value("user/doctor", ""))
        key_before = self.record_id or UNSAVED_KEY
        rid, version = self.db.save_record(rec, patient_id=self.patient_id, user=user,
                                           actions=self.controller.state.log)
        self.controller.state.log.clear()
        self.record_id = rid
        if self.tongue_panel.photo_bytes is not None:
            sha = self.db.add_photo(self.tongue_panel.photo_bytes)
            self.db.link_photo(rid, sha)
            if self.tongue_panel.analysis:
                self.db.save_photo_analysis(sha, self.tongue_panel.analysis, self.tongue_panel.model_version)
        self.db.clear_draft(key_before)
        self.db.clear_draft(rid)
        self._saved_text = rec.text
        self._draft_dirty = False
        self.controller.undo_stack.setClean()
        self._update_title()
        self.show_message(t("已保存（第 %n 版）").replace("%n", str(version)))
        return rid, version

    def open_record(self, record_id: str, version: int | None = None) -> None:
        self.autosave()
        rec = self.db.load_record(record_id, version)
        info = self.db.record_info(record_id) or {}
        self.record_id = record_id
        self.patient_id = info.get("patient_id")
        patient = self.db.get_patient(self.patient_id) if self.patient_id else None
        self.patient.setText(patient["name"] if patient else "")
        self.controller.load(rec, analysed=bool(rec.entities))
        self.editor.set_text(rec.text)
        self._saved_text = rec.text
        photos = self.db.record_photos(record_id)
        if photos:
            self.tongue_panel.set_photo(self.db.photo_bytes(photos[-1]), self.db.photo_analysis(photos[-1]))
        else:
            self.tongue_panel.clear_photo()
        self.hide_banner()
        draft = self.db.load_draft(record_id)
        if draft and draft[0] != rec.text:
            self.editor.setPlainText(draft[0])  # goes through text_edited: entities shift/drop as for typing
            self.show_info(t("已恢复该记录未保存的修改（%1）").replace("%1", draft[1].replace("T", " ")[:19]))
        self._draft_dirty = False
        self._update_title()
        self._update_counts()

    def open_history(self) -> None:
        dlg = HistoryDialog(self.db, self)
        if dlg.exec() == QDialog.DialogCode.Accepted and dlg.chosen_record_id:
            self.open_record(dlg.chosen_record_id)

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

    # -- drafts -----------------------------------------------------------------
    def _on_text_changed(self) -> None:
        self._draft_dirty = True
        self.tongue_panel.set_record_text(self.editor.text())
        self._update_title()

    def autosave(self) -> bool:
        """Write the text to the drafts table if it changed since the last save/draft."""
        if not self._draft_dirty:
            return False
        text = self.editor.text()
        key = self.record_id or UNSAVED_KEY
        if text == self._saved_text or not text.strip():
            self.db.clear_draft(key)
        else:
            self.db.save_draft(key, text)
        self._draft_dirty = False
        return True

    def _restore_unsaved_draft(self) -> None:
        draft = self.db.load_draft(UNSAVED_KEY)
        if draft and draft[0].strip():
            self.editor.setPlainText(draft[0])
            self._draft_dirty = False
            self.show_info(t("已恢复上次未保存的草稿（%1）").replace("%1", draft[1].replace("T", " ")[:19]))

    # -- exports ----------------------------------------------------------------
    def _ask_path(self, title: str, suffix: str, filt: str) -> str | None:
        default = str(Path.home() / f"{self.record_id or 'record'}.{suffix}")
        path, _ = QFileDialog.getSaveFileName(self, title, default, filt)
        return path or None

    def export_pdf(self, path: str | Path | None = None) -> Path | None:
        from tcm_desktop.records.report_pdf import write_report

        path = path or self._ask_path(t("导出 PDF"), "pdf", "PDF (*.pdf)")
        if not path:
            return None
        rec = self.current_record()
        photo = self.tongue_panel.photo_bytes  # passed as bytes: no clear copy in a temp file
        name = self.patient.text().strip()
        try:
            out = write_report(path, rec, clinic=str(self.settings.value("user/clinic", "")),
                               patient={"name": name} if name else None,
                               doctor=str(self.settings.value("user/doctor", "")), photo_path=photo,
                               tongue=report_fields(rec.tongue) if rec.tongue else None)
        except Exception as exc:  # noqa: BLE001 - a failed export is reported, the record is untouched
            self.show_error(t("导出失败：") + str(exc))
            return None
        self.show_message(t("已导出：") + str(out))
        return out

    def export_json(self, path: str | Path | None = None) -> Path | None:
        from tcm_desktop.records.exports import write_json

        path = path or self._ask_path(t("导出 JSON"), "json", "JSON (*.json)")
        if not path:
            return None
        out = write_json(path, self.current_record())
        self.show_message(t("已导出：") + str(out))
        return out

    def export_csv(self, path: str | Path | None = None) -> Path | None:
        from tcm_desktop.records.exports import write_csv

        path = path or self._ask_path(t("导出 CSV"), "csv", "CSV (*.csv)")
        if not path:
            return None
        out = write_csv(path, self.current_record())
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
        return BatchDialog(self.engine, self.db.path, self.pool, str(self.settings.value("user/doctor", "")), self)

    def batch_import(self) -> None:
        self.make_batch_dialog().exec()

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
        self.settings.setValue("ui/language", code)
        for a in act.parent().actions() if act and act.parent() else []:
            a.setChecked(a.data() == code)
        self.show_message(t("界面语言将在重新启动后生效"))

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
        dirty = self.editor.text() != self._saved_text or not self.controller.undo_stack.isClean()
        name = self.record_id[:8] if self.record_id else t("新病历")
        self.setWindowTitle(f"{'*' if dirty else ''}{name} — {t('中医病历结构化')}")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.autosave()
        self.tongue_panel.stop_camera()
        self.pool.shutdown()
        super().closeEvent(event)
