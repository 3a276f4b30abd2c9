"""The live camera preview the paper and tongue panels share: ``camera_frames`` runs in a Task off the UI
thread and each frame arrives as its ``progress``."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QAbstractButton, QLabel

from tcm_desktop.ui.i18n import t
from tcm_desktop.ui.workers import Task, WorkerPool, camera_frames


class CameraPreview:
    """Mixin for a panel with a live preview. The panel sets ``_camera`` and ``_last_frame`` to None, holds
    ``pool`` and ``capture_factory``, and says which controls show the preview and how a frame is drawn."""

    _camera: Task | None
    _last_frame: QImage | None
    pool: WorkerPool
    capture_factory: Any

    @property
    def camera_running(self) -> bool:
        return self._camera is not None

    def _preview_controls(self) -> tuple[QAbstractButton, QLabel, str]:
        """The capture button (enabled once a frame is shown), the label that tells the camera's state and
        what that label says while frames arrive."""
        raise NotImplementedError

    def _show_frame(self, img: QImage) -> None:
        raise NotImplementedError

    def _start_preview(self, device: int) -> Task:
        """A preview task for camera ``device`` wired to this panel (the caller updates its controls, then starts it)."""
        worker = Task(camera_frames, device, capture_factory=self.capture_factory)
        worker.progress.connect(self._on_frame)
        worker.error.connect(self._on_camera_error)
        worker.finished.connect(self._on_camera_finished)
        self._camera = worker
        return worker

    def _on_frame(self, img: QImage | None) -> None:
        if self._camera is None or img is None:
            return
        self._last_frame = img
        capture, status, hint = self._preview_controls()
        capture.setEnabled(True)
        status.setText(hint)
        self._show_frame(img)

    def _on_camera_error(self, message: str) -> None:
        self._preview_controls()[1].setText(t("未检测到可用的摄像头，请检查连接或选择其他设备。") + f"（{message}）")

    def _on_camera_finished(self) -> None:
        raise NotImplementedError
