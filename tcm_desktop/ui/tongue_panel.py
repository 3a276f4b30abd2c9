"""Tongue photo panel: load (dialog, drag and drop, paste) or capture from a camera; shows the analysis state.

Why the camera runs on its own thread: ``VideoCapture.read`` blocks for a
frame period (or seconds when a driver hangs); the preview must never freeze
the editor. Frames arrive as ``QImage`` through a queued signal. When no
camera answers, the panel says so in words instead of showing a black box.
The tongue analysis engine is not part of this release, so the panel has an
explicit "no analysis yet" state rather than an empty area.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMimeData, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication, QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from .i18n import t
from .workers import CameraWorker, WorkerPool

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.webp)"


def image_to_png(img: QImage) -> bytes:
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    return bytes(buf.data().data())


class TonguePanel(QWidget):
    """Photo + camera + analysis state. ``photo_bytes`` is what the main window stores with the record."""

    photoChanged = Signal()

    def __init__(self, pool: WorkerPool, parent: QWidget | None = None,
                 capture_factory: Callable[[int], Any] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tonguePanel")
        self.pool = pool
        self.capture_factory = capture_factory
        self.photo_bytes: bytes | None = None
        self.analysis: dict[str, Any] | None = None
        self._camera: CameraWorker | None = None
        self._last_frame: QImage | None = None
        self.setAcceptDrops(True)

        self.image = QLabel(t("拖入、粘贴或选择一张舌象照片"))
        self.image.setObjectName("tongueImage")
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(280, 210)
        self.image.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.image.setStyleSheet("QLabel#tongueImage { border: 2px dashed #9aa5b1; color: #666; background: #fafafa; }")

        self.load_btn = QPushButton(t("选择照片…"))
        self.paste_btn = QPushButton(t("粘贴"))
        self.clear_btn = QPushButton(t("移除"))
        self.load_btn.clicked.connect(self.choose_file)
        self.paste_btn.clicked.connect(self.paste)
        self.clear_btn.clicked.connect(self.clear_photo)
        row1 = QHBoxLayout()
        for b in (self.load_btn, self.paste_btn, self.clear_btn):
            row1.addWidget(b)

        self.device = QComboBox()
        self.device.setObjectName("cameraDevice")
        for i in range(4):
            self.device.addItem(t("摄像头 %1").replace("%1", str(i)), i)
        self.camera_btn = QPushButton(t("打开摄像头"))
        self.camera_btn.setObjectName("cameraButton")
        self.capture_btn = QPushButton(t("拍照"))
        self.capture_btn.setEnabled(False)
        self.camera_btn.clicked.connect(self.toggle_camera)
        self.capture_btn.clicked.connect(self.capture)
        row2 = QHBoxLayout()
        row2.addWidget(self.device)
        row2.addWidget(self.camera_btn)
        row2.addWidget(self.capture_btn)

        self.camera_status = QLabel("")
        self.camera_status.setObjectName("cameraStatus")
        self.camera_status.setWordWrap(True)
        self.analysis_label = QLabel()
        self.analysis_label.setObjectName("tongueAnalysis")
        self.analysis_label.setWordWrap(True)
        self.analysis_label.setStyleSheet("QLabel { background: #fff8e1; border: 1px solid #f0d48a; padding: 6px; }")

        lay = QVBoxLayout(self)
        lay.addWidget(self.image, 1)
        lay.addLayout(row1)
        lay.addLayout(row2)
        lay.addWidget(self.camera_status)
        lay.addWidget(self.analysis_label)
        QShortcut(QKeySequence.StandardKey.Paste, self, self.paste,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._update_analysis()

    # -- photo ------------------------------------------------------------------
    def set_photo(self, data: bytes | None, analysis: dict[str, Any] | None = None) -> bool:
        """Show a photo (encoded bytes); False when the bytes are not an image."""
        if data is None:
            self.clear_photo()
            return True
        img = QImage.fromData(QByteArray(data))
        if img.isNull():
            self.camera_status.setText(t("无法读取该图片"))
            return False
        self.photo_bytes = data
        self.analysis = analysis
        self._show(img)
        self._update_analysis()
        self.photoChanged.emit()
        return True

    def clear_photo(self) -> None:
        self.photo_bytes = None
        self.analysis = None
        self.image.setPixmap(QPixmap())
        self.image.setText(t("拖入、粘贴或选择一张舌象照片"))
        self._update_analysis()
        self.photoChanged.emit()

    def _show(self, img: QImage) -> None:
        pm = QPixmap.fromImage(img)
        self.image.setPixmap(pm.scaled(self.image.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                       Qt.TransformationMode.SmoothTransformation))

    def _update_analysis(self) -> None:
        if self.photo_bytes is None:
            self.analysis_label.setText(t("舌象分析：尚无照片"))
        elif not self.analysis:
            self.analysis_label.setText(t("舌象分析：尚未分析（舌象分析模块将在后续版本提供）"))
        else:
            lines = [f"{k}：{v}" for k, v in self.analysis.items()]
            self.analysis_label.setText(t("舌象分析：") + "；".join(lines))

    def load_file(self, path: str | Path) -> bool:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            self.camera_status.setText(str(exc))
            return False
        return self.set_photo(data)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, t("选择舌象照片"), "", IMAGE_FILTER)
        if path:
            self.load_file(path)

    def load_mime(self, mime: QMimeData) -> bool:
        if mime.hasImage():
            img = QImage(mime.imageData())
            if not img.isNull():
                return self.set_photo(image_to_png(img))
        for url in mime.urls():
            if url.isLocalFile():
                return self.load_file(url.toLocalFile())
        return False

    def paste(self) -> None:
        if not self.load_mime(QGuiApplication.clipboard().mimeData()):
            self.camera_status.setText(t("剪贴板中没有图片"))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if mime.hasImage() or any(u.isLocalFile() for u in mime.urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        if self.load_mime(event.mimeData()):
            event.acceptProposedAction()

    # -- camera -----------------------------------------------------------------
    @property
    def camera_running(self) -> bool:
        return self._camera is not None

    def toggle_camera(self) -> None:
        if self._camera is None:
            self.start_camera()
        else:
            self.stop_camera()

    def start_camera(self) -> None:
        if self._camera is not None:
            return
        worker = CameraWorker(int(self.device.currentData()), capture_factory=self.capture_factory)
        worker.frame.connect(self._on_frame)
        worker.error.connect(self._on_camera_error)
        worker.finished.connect(self._on_camera_finished)
        self._camera = worker
        self.camera_status.setText(t("正在打开摄像头…"))
        self.camera_btn.setText(t("关闭摄像头"))
        self.device.setEnabled(False)
        self.pool.start(worker)

    def stop_camera(self) -> None:
        if self._camera is not None:
            self._camera.cancel()

    def _on_frame(self, img: QImage) -> None:
        if self._camera is None:
            return
        self._last_frame = img
        self.capture_btn.setEnabled(True)
        self.camera_status.setText(t("实时预览中：对准舌面后点击“拍照”"))
        self._show(img)

    def _on_camera_error(self, message: str) -> None:
        self.camera_status.setText(t("未检测到可用的摄像头，请检查连接或选择其他设备。") + f"（{message}）")

    def _on_camera_finished(self) -> None:
        self._camera = None
        self.capture_btn.setEnabled(False)
        self.camera_btn.setText(t("打开摄像头"))
        self.device.setEnabled(True)
        if self.photo_bytes is not None:
            self.set_photo(self.photo_bytes, self.analysis)
        elif self._last_frame is None:
            self.image.setPixmap(QPixmap())
            self.image.setText(t("拖入、粘贴或选择一张舌象照片"))
        self._last_frame = None

    def capture(self) -> bool:
        """Keep the current preview frame as the record's photo and stop the camera."""
        if self._last_frame is None:
            return False
        data = image_to_png(self._last_frame)
        self.stop_camera()
        self.camera_status.setText(t("已拍照"))
        return self.set_photo(data)
