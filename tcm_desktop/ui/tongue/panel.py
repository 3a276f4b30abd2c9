"""Tongue photo panel: load (dialog, drag and drop, paste) or capture from a camera, analyse, relate to the record.

Why the camera runs on its own thread: ``VideoCapture.read`` blocks for a
frame period (or seconds when a driver hangs); the preview must never freeze
the editor. Frames arrive as ``QImage`` through a queued signal. When no
camera answers, the panel says so in words instead of showing a black box.

Every photo set here (file, drop, paste, capture, a reopened record) is
analysed by the tongue engine (:mod:`tcm_desktop.tongue`) on a worker thread
(:func:`~tcm_desktop.ui.workers.analyse_photo` in a :class:`~tcm_desktop.ui.workers.Task`). Each photo gets a new *generation* number;
a result whose generation is not the current one belongs to a replaced photo
and is dropped, so a slow earlier analysis can never overwrite a newer one.
The panel is thin: decoding, the mask outline, the suggested record text, the
comparison with the record's TONGUE/COATING entities and the insertion point
all come from the core; the panel only draws them. A missing or broken tongue
model is said in the panel; the photo is still kept with the record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from html import escape
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QEvent, QIODevice, QMimeData, QObject, QPointF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QImage,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPolygonF,
    QShortcut,
)
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

from tcm_desktop.tongue.imageio import MAX_BYTES, check_image_bytes
from tcm_desktop.tongue.session import TongueSession
from tcm_desktop.tongue.wording import ATTRIBUTE_ZH, NOT_ASSESSED_ZH, REFUSAL_ZH, VALUE_ZH
from tcm_desktop.ui.camera import CameraPreview
from tcm_desktop.ui.i18n import language, t
from tcm_desktop.ui.workers import Task, WorkerPool, analyse_photo

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.webp)"
ATTRIBUTES = ("body_colour", "coating_colour", "fissure", "tooth_marks")
OUTLINE_COLOUR = QColor("#00e676")
VEIL_COLOUR = QColor(0, 0, 0, 110)  # dims what is not tongue; the tongue itself keeps its true colours

STYLE_INFO = "QLabel#tongueAnalysis { background: #eef3f8; border: 1px solid #c5d3e0; padding: 6px; }"
STYLE_OK = "QLabel#tongueAnalysis { background: #e8f5e9; border: 1px solid #a5d6a7; padding: 6px; font-weight: bold; }"
STYLE_WARN = "QLabel#tongueAnalysis { background: #fff3cd; color: #6d4c00; border: 1px solid #f0c36d; padding: 6px; }"
STYLE_FLAGS = "QLabel#tongueFlags { background: #fff3cd; color: #7a3e00; border: 1px solid #f0a040; padding: 6px; }"
STYLE_AGREE = "QLabel#tongueFlags { background: #f1f8e9; color: #33691e; border: 1px solid #c5e1a5; padding: 6px; }"
STYLE_SUGGEST = "QLabel#tongueSuggestion { background: #f5f5f5; border: 1px solid #ddd; padding: 6px; }"


class StatusLabel(QLabel):
    """A wrapped label that takes no room while it has nothing to say."""

    def setText(self, text: str) -> None:  # noqa: N802 - Qt's name
        super().setText(text)
        self.setVisible(bool(text))


def image_to_png(img: QImage) -> bytes:
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    return bytes(buf.data().data())


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """H x W x 3 uint8 RGB -> an independent QImage."""
    a = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = a.shape[:2]
    return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def outline_width(img: QImage) -> float:
    return max(2.0, max(img.width(), img.height()) / 150.0)


def draw_outline(photo: QImage, polygons: Iterable[np.ndarray]) -> QImage:
    """The photo with the segmented tongue outlined and the rest dimmed (polygons in photo pixels).

    The tongue's own pixels are left untouched: the doctor judges its colours on the photo.
    """
    path = QPainterPath()
    for poly in polygons:
        path.addPolygon(QPolygonF([QPointF(float(x) + 0.5, float(y) + 0.5) for x, y in poly]))
        path.closeSubpath()
    out = photo.convertToFormat(QImage.Format.Format_ARGB32)
    if path.isEmpty():
        return out
    veil = QPainterPath()
    veil.addRect(0, 0, out.width(), out.height())
    p = QPainter(out)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.fillPath(veil.subtracted(path), VEIL_COLOUR)
    p.strokePath(path, QPen(OUTLINE_COLOUR, outline_width(out)))
    p.end()
    return out


def attribute_name(attr: str) -> str:
    return t(ATTRIBUTE_ZH.get(attr) or NOT_ASSESSED_ZH.get(attr) or attr)


def value_name(attr: str, value: str) -> str:
    zh = VALUE_ZH.get(attr, {}).get(value)
    return t(zh) if zh else value


def refusal_text(result: dict) -> str:
    """Why the engine refused the photo, in the UI language (the engine's own words as a fallback)."""
    reason = result.get("reason")
    text = t(REFUSAL_ZH[reason]) if reason in REFUSAL_ZH else ""
    if reason == "failed" or not text:
        text += str(result.get("message") or "")
    return text


class TonguePanel(QWidget, CameraPreview):
    """Photo + camera + tongue analysis; draws a Qt-free :class:`~tcm_desktop.tongue.session.TongueSession`.

    ``photo_bytes`` and ``analysis`` are what the main window stores: ``analysis`` is the engine's
    result with the record relation added (``disagreements`` and ``suggested_text``, as
    ``tcm-desktop structure --image`` writes them); None until a result exists.
    ``engine_factory`` returns the tongue engine (default: the shipped model, loaded once on a worker
    thread); tests inject their own.
    """

    photoChanged = Signal()
    analysisChanged = Signal()  # a new result (or none) is shown
    insertTextRequested = Signal(str)  # the doctor asked to put the suggested text into the record

    def __init__(self, pool: WorkerPool, parent: QWidget | None = None,
                 capture_factory: Callable[[int], Any] | None = None,
                 engine_factory: Callable[[], Any] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tonguePanel")
        self.pool = pool
        self.capture_factory = capture_factory
        self.engine_factory = engine_factory
        self.session = TongueSession()
        self.photo_image: QImage | None = None  # the photo as analysed (orientation applied)
        self.overlay_image: QImage | None = None  # the photo with the tongue outline
        self._tongue_worker: Task | None = None
        self._camera: Task | None = None
        self._last_frame: QImage | None = None
        self.setAcceptDrops(True)

        self.image = QLabel(t("拖入、粘贴或选择一张舌象照片"))
        self.image.setObjectName("tongueImage")
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(240, 180)
        self.image.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.image.setStyleSheet("QLabel#tongueImage { border: 2px dashed #9aa5b1; color: #666; background: #fafafa; }")
        self.image.installEventFilter(self)

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

        self.camera_status = StatusLabel()
        self.camera_status.setObjectName("cameraStatus")
        self.camera_status.setWordWrap(True)
        self.camera_status.setText("")
        self.analysis_label = QLabel()
        self.analysis_label.setObjectName("tongueAnalysis")
        self.analysis_label.setWordWrap(True)
        self.findings = QLabel()
        self.findings.setObjectName("tongueFindings")
        self.findings.setTextFormat(Qt.TextFormat.RichText)
        self.findings.setWordWrap(True)
        self.findings.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.flags = QLabel()
        self.flags.setObjectName("tongueFlags")
        self.flags.setTextFormat(Qt.TextFormat.RichText)
        self.flags.setWordWrap(True)
        self.suggestion = QLabel()
        self.suggestion.setObjectName("tongueSuggestion")
        self.suggestion.setWordWrap(True)
        self.suggestion.setStyleSheet(STYLE_SUGGEST)
        self.insert_btn = QPushButton(t("插入病历"))
        self.insert_btn.setObjectName("insertTongueText")
        self.insert_btn.setToolTip(t("在光标处（或舌脉一栏、病历末尾）插入建议的舌象描述"))
        self.insert_btn.clicked.connect(self.request_insert)
        row3 = QHBoxLayout()
        row3.addWidget(self.suggestion, 1)
        row3.addWidget(self.insert_btn, 0, Qt.AlignmentFlag.AlignVCenter)

        lay = QVBoxLayout(self)
        lay.addWidget(self.image, 1)
        lay.addLayout(row1)
        lay.addLayout(row2)
        lay.addWidget(self.camera_status)
        lay.addWidget(self.analysis_label)
        lay.addWidget(self.findings)
        lay.addWidget(self.flags)
        lay.addLayout(row3)
        QShortcut(QKeySequence.StandardKey.Paste, self, self.paste,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._render()

    # -- photo ------------------------------------------------------------------
    def set_photo(self, data: bytes | None, analysis: dict[str, Any] | None = None, name: str | None = None) -> bool:
        """Show a photo (encoded bytes) and analyse it; False when the bytes are not an image.

        ``analysis`` (e.g. stored with a reopened record) is shown until the fresh analysis arrives,
        and stays when the tongue model is unavailable.
        """
        if data is None:
            self.clear_photo()
            return True
        refused = check_image_bytes(data)  # header only: an image bomb never reaches Qt's decoder
        if refused:
            self.camera_status.setText(t("无法读取该图片") + f"（{refused}）")
            return False
        img = QImage.fromData(QByteArray(data))
        if img.isNull():
            self.camera_status.setText(t("无法读取该图片"))
            return False
        if not self.camera_running:
            self.camera_status.setText("")  # an old "cannot read" must not stay under a good photo
        self._supersede()
        generation = self.session.set_photo(data, analysis)
        self.photo_image = img
        self.overlay_image = None
        self._start_analysis(data, name or hashlib.sha256(data).hexdigest()[:12], generation)
        self._show_photo()
        self._render()
        self.photoChanged.emit()
        self.analysisChanged.emit()
        return True

    def clear_photo(self) -> None:
        self._supersede()
        self.session.clear()
        self.photo_image = None
        self.overlay_image = None
        if not self.camera_running:
            self.camera_status.setText("")
        self.image.setPixmap(QPixmap())
        self.image.setText(t("拖入、粘贴或选择一张舌象照片"))
        self._render()
        self.photoChanged.emit()
        self.analysisChanged.emit()

    def displayed_image(self) -> QImage | None:
        """The full-size image the panel shows: the photo with the outline once analysed."""
        return self.overlay_image if self.overlay_image is not None else self.photo_image

    def _show(self, img: QImage) -> None:
        size = self.image.contentsRect().size()
        pm = QPixmap.fromImage(img)
        self.image.setPixmap(pm.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))

    def _show_photo(self) -> None:
        img = self.displayed_image()
        if img is not None and self._camera is None:
            self._show(img)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.image and event.type() == QEvent.Type.Resize:
            self._show_photo()
        return super().eventFilter(watched, event)

    # -- the session's state, as the main window and tests read it ---------------------------
    @property
    def photo_bytes(self) -> bytes | None:
        return self.session.photo_bytes

    @property
    def analysis(self) -> dict[str, Any] | None:
        return self.session.analysis

    @property
    def result(self) -> dict[str, Any] | None:
        return self.session.result

    @property
    def model_version(self) -> str:
        return self.session.model_version

    @property
    def mask(self) -> np.ndarray | None:
        return self.session.mask

    @property
    def model_error(self) -> str | None:
        return self.session.model_error

    @property
    def state(self) -> str:
        return self.session.state

    @property
    def analysing(self) -> bool:
        return self.session.state == "analysing"

    @property
    def disagreements(self) -> list[str]:
        return self.session.disagreements

    @property
    def suggested_text(self) -> str:
        return self.session.suggested_text

    # -- analysis ---------------------------------------------------------------
    def _factory(self) -> Callable[[], Any] | None:
        if self.engine_factory is not None:
            return self.engine_factory
        from tcm_desktop.tongue.engine import get_engine, model_available

        return get_engine if model_available() else None

    def _supersede(self) -> None:
        """Stop the running analysis: its result, if it still comes, is for an older photo."""
        if self._tongue_worker is not None:
            self._tongue_worker.cancel()
            self._tongue_worker = None

    def _start_analysis(self, data: bytes, image_id: str, generation: int) -> None:
        factory = self._factory()
        if factory is None:
            self.session.model_missing()
            return
        w = Task(analyse_photo, factory, data, generation, image_id)
        w.result.connect(self._on_tongue_result)
        self._tongue_worker = w
        self.pool.start(w)

    def _on_tongue_result(self, outcome: dict[str, Any]) -> None:
        if not self.session.accept(outcome):
            return
        self._tongue_worker = None
        if self.session.rgb is not None:
            self.photo_image = rgb_to_qimage(self.session.rgb)
        outline = self.session.outline
        self.overlay_image = draw_outline(self.photo_image, outline) if outline and self.photo_image is not None else None
        self._show_photo()
        self._render()
        if self.session.state == "done":
            self.analysisChanged.emit()

    # -- the record ---------------------------------------------------------------
    def set_record(self, entities: Iterable[Any], text: str | None = None) -> None:
        """The record's current entities (and text): the photo is compared with its TONGUE/COATING entities."""
        self.session.set_record(entities, text)
        self._render()

    def set_record_text(self, text: str) -> None:
        """The record text changed (typing): only whether the suggestion is already in it can change."""
        if text != self.session.record_text:
            self.session.record_text = text
            self._render_suggestion()

    def request_insert(self) -> None:
        if self.suggested_text:
            self.insertTextRequested.emit(self.suggested_text)

    # -- display ------------------------------------------------------------------
    def _set_status(self, text: str, style: str) -> None:
        self.analysis_label.setText(text)
        self.analysis_label.setStyleSheet(style)

    def _render(self) -> None:
        status = self.session.status()
        if status == "no_photo":
            self._set_status(t("舌象分析：尚无照片"), STYLE_INFO)
        elif status == "analysing":
            self._set_status(t("舌象分析：正在分析…"), STYLE_INFO)
        elif status == "unavailable":
            self._set_status(t("舌象分析不可用：未安装舌象模型（models/tongue）。照片仍会随病历保存。"), STYLE_WARN)
        elif status == "failed":
            self._set_status(t("舌象分析不可用：舌象模型无法加载。照片仍会随病历保存。") + f"\n{self.model_error}", STYLE_WARN)
        elif status == "refused":
            self._set_status(t("照片未通过质量检查，未给出舌象结果：") + "\n" + refusal_text(self.result or {}), STYLE_WARN)
        elif status in ("result", "result_model_missing"):
            note = "\n" + t("（保存的分析结果；舌象模型当前不可用）") if status == "result_model_missing" else ""
            self._set_status(t("舌象分析结果") + note, STYLE_OK)
        else:
            self._set_status(t("舌象分析：尚未分析"), STYLE_INFO)
        self._render_findings()
        self._render_flags()
        self._render_suggestion()

    def _render_findings(self) -> None:
        res = self.result
        if not res or not res.get("ok"):
            self.findings.clear()
            self.findings.hide()
            return
        en = language() == "en"
        grey = "color:#777;"
        rows = []
        for attr in ATTRIBUTES:
            a = (res.get("attributes") or {}).get(attr)
            if not a:
                continue
            value = str(a.get("value"))
            label = escape(attribute_name(attr))
            if not en:
                label += f" <span style='{grey}'>{escape(attr.replace('_', ' '))}</span>"
            val = f"<b>{escape(value_name(attr, value))}</b>"
            if not en:
                val += f" <span style='{grey}'>{escape(value)}</span>"
            rows.append(f"<tr><td>{label}</td><td>{val}</td><td align='right'>{float(a.get('score', 0)):.2f}</td></tr>")
        for attr in res.get("not_assessed") or []:
            label = escape(attribute_name(attr))
            if not en:
                label += f" <span style='{grey}'>{escape(attr)}</span>"
            rows.append(f"<tr><td>{label}</td><td colspan='2' style='{grey}'>{escape(t('未评估'))}"
                        f"{'' if en else ' not assessed'}</td></tr>")
        head = (f"<tr><th align='left'>{escape(t('项目'))}</th><th align='left'>{escape(t('照片所见'))}</th>"
                f"<th align='right'>{escape(t('置信度'))}</th></tr>")
        self.findings.setText(f"<table cellspacing='0' cellpadding='3' width='100%'>{head}{''.join(rows)}</table>")
        self.findings.show()

    def _render_flags(self) -> None:
        if not self.session.compares_with_record:
            self.flags.clear()
            self.flags.hide()
            return
        flags = self.disagreements
        if flags:
            items = "".join(f"<li>{escape(f)}</li>" for f in flags)
            self.flags.setText(f"<b>⚠ {escape(t('照片所见与病历描述不一致：'))}</b><ul style='margin:2px 0 0 -20px'>{items}</ul>")
            self.flags.setStyleSheet(STYLE_FLAGS)
        else:
            self.flags.setText(escape(t("✓ 未发现照片与病历舌象描述不一致之处")))
            self.flags.setStyleSheet(STYLE_AGREE)
        self.flags.show()

    def _render_suggestion(self) -> None:
        text = self.suggested_text
        if not self.session.offers_text:
            self.suggestion.hide()
            self.insert_btn.hide()
            return
        inserted = self.session.text_inserted
        self.suggestion.setText(t("病历中没有舌象描述。建议：") + text)
        self.insert_btn.setText(t("已插入") if inserted else t("插入病历"))
        self.insert_btn.setEnabled(not inserted)
        self.suggestion.show()
        self.insert_btn.show()

    # -- sources ------------------------------------------------------------------
    def load_file(self, path: str | Path) -> bool:
        try:
            if Path(path).stat().st_size > MAX_BYTES:  # refused before the file is even read
                self.camera_status.setText(t("无法读取该图片") + f"（> {MAX_BYTES // (1024 * 1024)} MB）")
                return False
            data = Path(path).read_bytes()
        except OSError as exc:
            self.camera_status.setText(str(exc))
            return False
        return self.set_photo(data, name=Path(path).stem)

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
    def toggle_camera(self) -> None:
        if self._camera is None:
            self.start_camera()
        else:
            self.stop_camera()

    def start_camera(self) -> None:
        if self._camera is not None:
            return
        worker = self._start_preview(int(self.device.currentData()))
        self.camera_status.setText(t("正在打开摄像头…"))
        self.camera_btn.setText(t("关闭摄像头"))
        self.device.setEnabled(False)
        self.pool.start(worker)

    def stop_camera(self) -> None:
        if self._camera is not None:
            self._camera.cancel()

    def _preview_controls(self) -> tuple[QPushButton, QLabel, str]:
        return self.capture_btn, self.camera_status, t("实时预览中：对准舌面后点击“拍照”")

    def _show_frame(self, img: QImage) -> None:
        self._show(img)

    def _on_camera_finished(self) -> None:
        self._camera = None
        self.capture_btn.setEnabled(False)
        self.camera_btn.setText(t("打开摄像头"))
        self.device.setEnabled(True)
        if self.photo_bytes is not None:
            self._show_photo()  # the record's photo (and its outline) again; no new analysis
        elif self._last_frame is None:
            self.image.setPixmap(QPixmap())
            self.image.setText(t("拖入、粘贴或选择一张舌象照片"))
        self._last_frame = None

    def capture(self) -> bool:
        """Keep the current preview frame as the record's photo (analysed like any photo) and stop the camera."""
        if self._last_frame is None:
            return False
        data = image_to_png(self._last_frame)
        self.stop_camera()
        self.camera_status.setText(t("已拍照"))
        return self.set_photo(data)
