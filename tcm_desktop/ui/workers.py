"""Background work for the GUI: model loading, analysis, tongue photos, batch import, camera frames.

Why: the model load and inference take from a fraction of a second to many
seconds; on the GUI thread they would freeze the window. Each job is a
``QObject`` moved to its own ``QThread``; it reports only through signals
(``progress``/``result``/``error``/``finished``), which Qt queues to the GUI
thread, so no worker ever touches a widget. Connect these signals to *bound
methods of QObjects living in the GUI thread* (never lambdas: a lambda has
no thread affinity and would run in the worker).

Cancel is cooperative: ``cancel()`` sets a flag the job checks between
records; a cancelled job never emits ``result``.
"""

from __future__ import annotations

import json
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QImage


class Worker(QObject):
    """Base job: override :meth:`work` (never ``run``); ``run`` turns its outcome into signals.

    Do not override the ``run`` slot in a subclass: with PySide6 6.12 a slot
    re-declared in a subclass is connected through a proxy receiver living in
    the GUI thread, so ``QThread.started`` would run the job on the GUI thread.
    """

    progress = Signal(int, int)
    result = Signal(object)
    error = Signal(str)
    finished = Signal()

    #: emit ``result`` even after cancel (a cancelled batch still reports what it saved)
    report_when_cancelled = False

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def work(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    @Slot()
    def run(self) -> None:
        try:
            value = self.work()
            if self.report_when_cancelled or not self.cancelled:
                self.result.emit(value)
        except Exception as exc:  # noqa: BLE001 - every failure is reported to the user, never lost
            traceback.print_exc()
            self.error.emit(f"{exc}" if str(exc) else type(exc).__name__)
        finally:
            self.finished.emit()


class ModelLoadWorker(Worker):
    """Builds the engine (loads the model) once at start-up."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        super().__init__()
        self.factory = factory

    def work(self) -> Any:
        return self.factory()


class AnalyseWorker(Worker):
    """Runs ``engine.structure`` on one text."""

    def __init__(self, engine: Any, text: str, record_id: str = "") -> None:
        super().__init__()
        self.engine, self.text, self.record_id = engine, text, record_id

    def work(self) -> Any:
        self.progress.emit(0, 1)
        rec = self.engine.structure(self.text, self.record_id)
        self.progress.emit(1, 1)
        return rec


class TongueWorker(Worker):
    """Analyses one tongue photo (encoded bytes) off the GUI thread.

    ``factory`` returns the tongue engine (loading it on first use, here on the worker thread).
    The result is a dict ``{"generation", "analysis", "error"}``: ``analysis`` is the core's
    :class:`~tcm_desktop.tongue.engine.TongueAnalysis` (None on error), ``error`` says why the
    model could not be used, ``model_version`` names the model that ran. ``generation`` is the caller's photo counter, so a result for a
    photo that has since been replaced can be recognised and dropped.
    """

    def __init__(self, factory: Callable[[], Any], data: bytes, generation: int, image_id: str = "photo") -> None:
        super().__init__()
        self.factory, self.data, self.generation, self.image_id = factory, data, generation, image_id

    def work(self) -> dict[str, Any]:
        try:
            engine = self.factory()
        except Exception as exc:  # noqa: BLE001 - a missing/corrupt model is a message, not a crash
            return {"generation": self.generation, "analysis": None, "error": str(exc) or type(exc).__name__}
        if self.cancelled:
            return {"generation": self.generation, "analysis": None, "error": None}
        try:
            analysis = engine.analyse_bytes(self.data, self.image_id)
        except Exception as exc:  # noqa: BLE001 - e.g. the model session fails at run time
            traceback.print_exc()
            return {"generation": self.generation, "analysis": None, "error": str(exc) or type(exc).__name__}
        version = str(getattr(engine, "meta", {}).get("version", ""))
        return {"generation": self.generation, "analysis": analysis, "error": None, "model_version": version}


def read_batch_folder(folder: Path) -> list[tuple[str, str]]:
    """``(id, text)`` pairs from a folder: each ``*.txt`` is one record (id = file name), ``*.jsonl`` one per line."""
    items: list[tuple[str, str]] = []
    for path in sorted(Path(folder).iterdir()):
        if path.suffix.lower() == ".txt" and path.is_file():
            text = path.read_text(encoding="utf-8-sig").strip()
            if text:
                items.append((path.stem, text))
        elif path.suffix.lower() == ".jsonl" and path.is_file():
            for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
                if not line.strip():
                    continue
                d = json.loads(line)
                text = str(d.get("text", "")).strip()
                if text:
                    items.append((str(d.get("id") or f"{path.stem}-{n}"), text))
    return items


class BatchWorker(Worker):
    """Structures every record of a folder and saves each to the database (its own connection)."""

    report_when_cancelled = True

    def __init__(self, engine: Any, db_path: Path, folder: Path, user: str = "") -> None:
        super().__init__()
        self.engine, self.db_path, self.folder, self.user = engine, Path(db_path), Path(folder), user

    def work(self) -> dict[str, Any]:
        from tcm_desktop.records.database import Database

        items = read_batch_folder(self.folder)
        total = len(items)
        self.progress.emit(0, total)
        saved: list[str] = []
        with Database(self.db_path) as db:
            for rec in self.engine.structure_many(items, progress=None, should_stop=lambda: self.cancelled):
                if self.cancelled:
                    break
                db.save_record(rec, user=self.user)
                saved.append(rec.id)
                self.progress.emit(len(saved), total)
        # a cancelled batch still reports what it saved: those records are in the database
        return {"saved": saved, "total": total, "cancelled": self.cancelled}


class CameraWorker(Worker):
    """Reads frames from an OpenCV camera and emits them as QImages (QImage is thread-safe, QPixmap is not)."""

    frame = Signal(QImage)

    def __init__(self, device: int = 0, interval_s: float = 0.04, capture_factory: Callable[[int], Any] | None = None):
        super().__init__()
        self.device, self.interval_s = device, interval_s
        self.capture_factory = capture_factory

    def work(self) -> int:
        import cv2

        factory = self.capture_factory or cv2.VideoCapture
        cap = factory(self.device)
        try:
            if cap is None or not cap.isOpened():
                raise RuntimeError(f"no camera at device {self.device}")
            frames = 0
            failures = 0
            while not self.cancelled:
                ok, bgr = cap.read()
                if not ok or bgr is None:
                    failures += 1
                    if failures > 25:
                        raise RuntimeError(f"camera {self.device} stopped sending frames")
                    time.sleep(self.interval_s)
                    continue
                failures = 0
                rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                h, w, _ = rgb.shape
                img = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
                self.frame.emit(img)
                frames += 1
                time.sleep(self.interval_s)
            return frames
        finally:
            if cap is not None:
                cap.release()


class WorkerPool(QObject):
    """Owns running jobs and their threads; keeps Python references alive until each thread ends."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: dict[QThread, Worker] = {}

    def start(self, worker: Worker) -> QThread:
        thread = QThread()
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.finished.connect(thread.quit)
        thread.finished.connect(self._on_thread_finished)
        self._jobs[thread] = worker
        thread.start()
        return thread

    @Slot()
    def _on_thread_finished(self) -> None:
        for thread in [t for t in self._jobs if t.isFinished()]:
            self._jobs.pop(thread, None)

    @property
    def running(self) -> list[Worker]:
        return [w for t, w in self._jobs.items() if t.isRunning()]

    def shutdown(self, timeout_ms: int = 3000) -> None:
        """Cancel everything and wait (bounded) for the threads, e.g. when the window closes."""
        for w in self._jobs.values():
            w.cancel()
        for t in list(self._jobs):
            t.quit()
            t.wait(timeout_ms)
        self._jobs.clear()
