"""The paper tab: a page photo, scan or PDF read offline, shown beside the editor.

The widget only draws state and forwards clicks; reading runs in an
:func:`read_and_correct` in a :class:`~tcm_desktop.ui.workers.Task` (a page takes seconds). Low-confidence
characters are outlined in orange on the page; the lexicon corrections are
listed with a check box each (unchecking one undoes it in the editor, checking
it again re-applies it); clicking a character on the page emits its text
offset, and :meth:`highlight` outlines the characters of a text range (the
current entity) in blue. When the recogniser is too unsure for the text to be
useful (handwriting, a poor photo) a warning says so.

The pages are encoded for storage in the same worker (:func:`encode_pages`);
the main window hands them to the record service when the record is saved, and
:meth:`show_document` shows a saved record's pages again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QDragEnterEvent, QDropEvent, QImage, QMouseEvent, QPen, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from tcm_desktop.ocr.correction import Correction, Corrector
from tcm_desktop.ocr.reader import IMAGE_SUFFIXES, OcrDocument, OcrError, images_from_bytes, read_document, read_pages
from tcm_desktop.ocr.storage import EncodedPage, document_from_pages, encode_pages
from tcm_desktop.ui.camera import CameraPreview
from tcm_desktop.ui.i18n import t
from tcm_desktop.ui.tongue.panel import image_to_png, rgb_to_qimage
from tcm_desktop.ui.workers import Task, WorkerPool

FILE_FILTER = "图片或 PDF (*.png *.jpg *.jpeg *.bmp *.tif *.tiff *.webp *.pdf)"
LOW_PEN = QColor("#e67e22")
HIGHLIGHT_PEN = QColor("#1f6feb")


def read_and_correct(source: str | Path | None = None, images: list[np.ndarray] | None = None, name: str = "",
                     corrector_factory: Any = None, progress: Any = None,
                     ) -> tuple[OcrDocument, list[Correction], list[EncodedPage]]:
    """Read a file (or images already decoded), propose corrections and encode the pages for storage;
    ``progress(done, total)`` per page."""
    if images is None:
        doc = read_document(source, progress)
    else:
        doc = read_pages(images, name or "image", progress)
    corrections = (corrector_factory or Corrector.from_model)().propose(doc.text, doc.confidences())
    return doc, corrections, encode_pages(doc)


class PageView(QGraphicsView):
    """The page image; a click reports the scene point."""

    clicked = Signal(float, float)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        p = self.mapToScene(event.position().toPoint())
        self.clicked.emit(p.x(), p.y())
        super().mousePressEvent(event)


class PaperPanel(QWidget, CameraPreview):
    textReady = Signal(str)  # the (corrected) text of a newly read document
    replaceRequested = Signal(int, int, str)  # start, end, new text: a correction applied or undone
    offsetClicked = Signal(int)  # a character on the page was clicked
    busyChanged = Signal(bool)

    def __init__(self, pool: WorkerPool, corrector_factory: Any = None, capture_factory: Any = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("paperPanel")
        self.setAcceptDrops(True)
        self.pool = pool
        self.corrector_factory = corrector_factory
        self.doc: OcrDocument | None = None
        self.corrections: list[Correction] = []
        #: the pages as stored with the record (encoded images + layout), in page order
        self.pages: list[EncodedPage] = []
        self.worker: Task | None = None
        self._highlight: list[Any] = []
        self.capture_factory = capture_factory
        self._camera: Task | None = None
        self._last_frame: QImage | None = None

        self.open_button = QPushButton(t("打开图片/PDF…"))
        self.open_button.clicked.connect(self.choose_file)
        self.paste_button = QPushButton(t("粘贴图片"))
        self.paste_button.clicked.connect(self.paste)
        self.camera_button = QPushButton(t("摄像头拍照"))
        self.camera_button.clicked.connect(self.toggle_camera)
        self.capture_button = QPushButton(t("拍照识别"))
        self.capture_button.setEnabled(False)
        self.capture_button.clicked.connect(self.capture)
        self.page_box = QSpinBox()
        self.page_box.setPrefix(t("第 "))
        self.page_box.setSuffix(t(" 页"))
        self.page_box.setMinimum(1)
        self.page_box.valueChanged.connect(self._show_page)
        self.page_box.hide()
        bar = QHBoxLayout()
        bar.addWidget(self.open_button)
        bar.addWidget(self.paste_button)
        bar.addWidget(self.camera_button)
        bar.addWidget(self.capture_button)
        bar.addStretch(1)
        bar.addWidget(self.page_box)

        self.status = QLabel()
        self._intro()
        self.status.setWordWrap(True)
        self.warning = QLabel()
        self.warning.setObjectName("ocrWarning")
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("QLabel#ocrWarning { background: #fff4e5; color: #8a4b08; border: 1px solid #f5c16c; padding: 4px; }")
        self.warning.hide()

        self.scene = QGraphicsScene(self)
        self.view = PageView(self.scene)
        self.view.setObjectName("pageView")
        self.view.clicked.connect(self._on_page_clicked)
        self.pixmap_item = QGraphicsPixmapItem()
        self.scene.addItem(self.pixmap_item)

        self.correction_list = QListWidget()
        self.correction_list.setObjectName("ocrCorrections")
        self.correction_list.setMaximumHeight(150)
        self.correction_list.itemChanged.connect(self._on_item_changed)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(bar)
        lay.addWidget(self.status)
        lay.addWidget(self.warning)
        lay.addWidget(self.view, 1)
        lay.addWidget(QLabel(t("识别纠错建议（取消勾选即撤销）：")))
        lay.addWidget(self.correction_list)

    # -- input ---------------------------------------------------------------------
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, t("从图片/PDF读取病历"), "", t(FILE_FILTER))
        if path:
            self.open_file(path)

    def open_file(self, path: str | Path) -> bool:
        return self._start(Task(read_and_correct, source=path, corrector_factory=self.corrector_factory,
                                progress_kwarg="progress"))

    def open_images(self, images: list[np.ndarray], name: str) -> bool:
        return self._start(Task(read_and_correct, images=images, name=name, corrector_factory=self.corrector_factory,
                                progress_kwarg="progress"))

    def paste(self) -> bool:
        img = QApplication.clipboard().image()
        if img.isNull():
            self._fail(t("剪贴板中没有图片。"))
            return False
        return self._open_qimage(img, t("剪贴板图片"))

    def _open_qimage(self, img: QImage, name: str) -> bool:
        try:
            images = images_from_bytes(image_to_png(img), name)
        except ValueError as exc:
            self._fail(str(exc))
            return False
        return self.open_images(images, name)

    # -- camera (the same capture worker as the tongue panel) ---------------------------
    def toggle_camera(self) -> None:
        if self._camera is None:
            worker = self._start_preview(0)
            self.camera_button.setText(t("关闭摄像头"))
            self.status.setText(t("正在打开摄像头…"))
            self.pool.start(worker)
        else:
            self._camera.cancel()

    def _preview_controls(self) -> tuple[QPushButton, QLabel, str]:
        return self.capture_button, self.status, t("实时预览中：让整页充满画面、光线均匀，然后点击“拍照识别”")

    def _show_frame(self, img: QImage) -> None:
        self.pixmap_item.setPixmap(QPixmap.fromImage(img))
        self.scene.setSceneRect(QRectF(0, 0, img.width(), img.height()))
        self.view.fitInView(self.scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def _on_camera_finished(self) -> None:
        self._camera = None
        self.capture_button.setEnabled(False)
        self.camera_button.setText(t("摄像头拍照"))

    def capture(self) -> bool:
        """Read the current preview frame as a page and stop the camera."""
        if self._last_frame is None:
            return False
        frame, self._last_frame = self._last_frame, None
        if self._camera is not None:
            self._camera.cancel()
        return self._open_qimage(frame, t("摄像头照片"))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(u.toLocalFile().lower().endswith((*IMAGE_SUFFIXES, ".pdf")) for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for u in event.mimeData().urls():
            if u.toLocalFile():
                self.open_file(u.toLocalFile())
                event.acceptProposedAction()
                return

    @property
    def busy(self) -> bool:
        return self.worker is not None

    def _start(self, worker: Task) -> bool:
        if self.busy:
            return False
        self.worker = worker
        worker.progress.connect(self._on_progress)
        worker.result.connect(self._on_result)
        worker.error.connect(self._fail)
        worker.finished.connect(self._on_finished)
        self.status.setText(t("正在识别…"))
        self.warning.hide()
        self.open_button.setEnabled(False)
        self.paste_button.setEnabled(False)
        self.busyChanged.emit(True)
        self.pool.start(worker)
        return True

    def _on_progress(self, step: tuple[int, int]) -> None:
        done, total = step
        self.status.setText(t("正在识别…") + f" {done}/{total}")

    def _on_finished(self) -> None:
        self.worker = None
        self.open_button.setEnabled(True)
        self.paste_button.setEnabled(True)
        self.busyChanged.emit(False)

    def _fail(self, message: str) -> None:
        self.status.setText(message)

    # -- result ----------------------------------------------------------------------
    def _on_result(self, value: tuple[OcrDocument, list[Correction], list[EncodedPage]]) -> None:
        self.doc, self.corrections, pages = value
        self.pages = list(pages)
        self._show_document()
        self.textReady.emit(self.text())

    def show_pages(self, pages: list[Any], saved: bool = True) -> bool:
        """Show the stored pages a saved record (or a restored draft) was read from, or clear the tab when
        there are none; the text is already in the editor. False when a stored page cannot be shown."""
        self.clear()
        try:
            doc = document_from_pages(pages)
        except OcrError as exc:
            self._fail(str(exc))
            return False
        if doc is None:
            return True
        self.doc = doc
        self._show_document()
        if saved:
            self.status.setText(self.status.text() + t("（已随病历保存）"))
        return True

    def _show_document(self) -> None:
        assert self.doc is not None
        self.warning.hide()
        self.status.setText(t("已识别 %p 页，平均置信度 %c；橙框为低置信度字符，请核对。")
                            .replace("%p", str(len(self.doc.pages))).replace("%c", f"{self.doc.mean_confidence:.2f}"))
        if not self.doc.readable:
            self.warning.setText(t("识别置信度过低，文本可能不可用：本功能不支持手写病历，请核对或手动录入。"))
            self.warning.show()
        self.page_box.blockSignals(True)
        self.page_box.setMaximum(len(self.doc.pages))
        self.page_box.setValue(1)
        self.page_box.blockSignals(False)
        self.page_box.setVisible(len(self.doc.pages) > 1)
        self._fill_corrections()
        self._show_page(1)

    def text(self) -> str:
        from tcm_desktop.ocr.correction import apply

        return apply(self.doc.text, self.corrections) if self.doc else ""

    def _fill_corrections(self) -> None:
        self.correction_list.blockSignals(True)
        self.correction_list.clear()
        for c in self.corrections:
            item = QListWidgetItem(f"{c.before} → {c.after}　{c.reason}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if c.applied else Qt.CheckState.Unchecked)
            self.correction_list.addItem(item)
        if not self.corrections:
            self.correction_list.addItem(t("没有纠错建议"))
        self.correction_list.blockSignals(False)

    def set_applied(self, index: int, applied: bool) -> None:
        """Apply or undo one correction: the editor receives the replacement as an ordinary edit."""
        c = self.corrections[index]
        if c.applied == applied:
            return
        c.applied = applied
        self.replaceRequested.emit(c.start, c.end, c.after if applied else c.before)
        item = self.correction_list.item(index)
        if item is not None and (item.checkState() == Qt.CheckState.Checked) != applied:
            self.correction_list.blockSignals(True)
            item.setCheckState(Qt.CheckState.Checked if applied else Qt.CheckState.Unchecked)
            self.correction_list.blockSignals(False)

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        row = self.correction_list.row(item)
        if 0 <= row < len(self.corrections):
            self.set_applied(row, item.checkState() == Qt.CheckState.Checked)

    # -- drawing -------------------------------------------------------------------------
    def current_page(self) -> int:
        return self.page_box.value() - 1

    def _show_page(self, number: int) -> None:
        if not self.doc:
            return
        for it in list(self.scene.items()):
            if it is not self.pixmap_item:
                self.scene.removeItem(it)
        self._highlight = []
        page = self.doc.pages[number - 1]
        self.pixmap_item.setPixmap(QPixmap.fromImage(rgb_to_qimage(page.image)))
        self.scene.setSceneRect(QRectF(0, 0, page.image.shape[1], page.image.shape[0]))
        pen = QPen(LOW_PEN, 2)
        for off in self.doc.low_confidence_offsets():
            pg, ch = self.doc.positions[off]
            if pg == page.index:
                x0, y0, x1, y1 = ch.box
                self.scene.addRect(QRectF(x0, y0, x1 - x0, y1 - y0), pen)
        self.view.fitInView(self.scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def low_confidence_marks(self) -> int:
        return len(self.scene.items()) - 1 - len(self._highlight)

    def highlight(self, start: int, end: int) -> list[tuple[int, tuple[int, int, int, int]]]:
        """Outline the characters of ``text[start:end]``; turns to their page. Returns the boxes drawn."""
        for it in self._highlight:
            self.scene.removeItem(it)
        self._highlight = []
        if not self.doc or start >= end:
            return []
        boxes = self.doc.boxes(start, end)
        if not boxes:
            return []
        if boxes[0][0] != self.current_page():
            self.page_box.setValue(boxes[0][0] + 1)
        pen, brush = QPen(HIGHLIGHT_PEN, 3), QBrush(QColor(31, 111, 235, 50))
        for pg, (x0, y0, x1, y1) in boxes:
            if pg == self.current_page():
                self._highlight.append(self.scene.addRect(QRectF(x0, y0, x1 - x0, y1 - y0), pen, brush))
        if self._highlight:
            self.view.ensureVisible(self._highlight[0])
        return boxes

    def _on_page_clicked(self, x: float, y: float) -> None:
        if self.doc:
            off = self.doc.offset_at(self.current_page(), x, y)
            if off is not None:
                self.offsetClicked.emit(off)

    def clear(self) -> None:
        self.doc, self.corrections, self.pages = None, [], []
        self.pixmap_item.setPixmap(QPixmap())
        for it in list(self.scene.items()):
            if it is not self.pixmap_item:
                self.scene.removeItem(it)
        self._highlight = []
        self.correction_list.clear()
        self.warning.hide()
        self.page_box.hide()
        self._intro()

    def _intro(self) -> None:
        self.status.setText(t("拍照或扫描的纸质病历：打开、拖入或粘贴图片/PDF，离线识别后放入编辑器。"))
