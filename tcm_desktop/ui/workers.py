"""One way to run work off the GUI thread: :class:`Task`, started by a :class:`WorkerPool`.

Why: the model load, inference, tongue photos, batch imports and the camera
take from a fraction of a second to minutes; on the GUI thread they would
freeze the window. A :class:`Task` runs any function on its own ``QThread`` and
reports only through signals (``progress``/``result``/``error``/``finished``),
which Qt queues to the GUI thread, so no job ever touches a widget. Connect
these signals to *bound methods of QObjects living in the GUI thread* (never
lambdas: a lambda has no thread affinity and would run in the worker).

If the function returns a generator (the core's job protocol, see
:mod:`tcm_desktop.progress`), each ``yield`` is emitted as ``progress`` and the
generator's ``return`` value as ``result``. Cancel is cooperative: ``cancel()``
sets a flag checked at each ``yield``; the generator is then closed, or, with
``report_when_cancelled``, sent :class:`~tcm_desktop.progress.Cancelled` so it
can return what it has done. A cancelled task otherwise never emits ``result``.
"""

from __future__ import annotations

import inspect
import json
import threading
import time
import traceback
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QImage

from tcm_desktop.progress import Cancelled


class Task(QObject):
    """Runs ``fn(*args, **kwargs)`` on a worker thread; see the module docstring.

    Do not subclass to override the ``run`` slot: with PySide6 6.12 a slot
    re-declared in a subclass is connected through a proxy receiver living in
    the GUI thread, so ``QThread.started`` would run the job on the GUI thread.
    """

    progress = Signal(object)
    result = Signal(object)
    error = Signal(str)
    finished = Signal()

    def __init__(self, fn: Callable[..., Any], *args: Any, report_when_cancelled: bool = False, **kwargs: Any) -> None:
        super().__init__()
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.report_when_cancelled = report_when_cancelled
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _drive(self, job: Generator[Any, None, Any]) -> tuple[bool, Any]:
        """Iterate a job generator; (whether to report, its return value)."""
        while True:
            if self.cancelled:
                if not self.report_when_cancelled:
                    job.close()
                    return False, None
                try:
                    job.throw(Cancelled())
                except StopIteration as stop:
                    return True, stop.value
                except Cancelled:
                    return False, None
                job.close()  # it yielded again after the cancel: stop it anyway
                return False, None
            try:
                step = next(job)
            except StopIteration as stop:
                return True, stop.value
            self.progress.emit(step)

    @Slot()
    def run(self) -> None:
        try:
            value = self.fn(*self.args, **self.kwargs)
            report = True
            if inspect.isgenerator(value):
                report, value = self._drive(value)
            if report and (self.report_when_cancelled or not self.cancelled):
                self.result.emit(value)
        except Exception as exc:  # noqa: BLE001 - every failure is reported to the user, never lost
            traceback.print_exc()
            self.error.emit(f"{exc}" if str(exc) else type(exc).__name__)
        finally:
            self.finished.emit()


def analyse_photo(factory: Callable[[], Any], data: bytes, generation: int,
                  image_id: str = "photo") -> Generator[None, None, dict[str, Any]]:
    """Analyse one tongue photo (encoded bytes); a job for :class:`Task`.

    ``factory`` returns the tongue engine (loading it on first use, here on the worker thread).
    The result is a dict ``{"generation", "analysis", "error", "model_version"}``: ``analysis`` is the
    core's :class:`~tcm_desktop.tongue.engine.TongueAnalysis` (None on error), ``error`` says why the
    model could not be used. ``generation`` is the caller's photo counter, so a result for a
    photo that has since been replaced can be recognised and dropped.
    """
    try:
        engine = factory()
    except Exception as exc:  # noqa: BLE001 - a missing/corrupt model is a message, not a crash
        return {"generation": generation, "analysis": None, "error": str(exc) or type(exc).__name__}
    yield None  # a newer photo may have cancelled this one while the model loaded
    try:
        analysis = engine.analyse_bytes(data, image_id)
    except Exception as exc:  # noqa: BLE001 - e.g. the model session fails at run time
        traceback.print_exc()
        return {"generation": generation, "analysis": None, "error": str(exc) or type(exc).__name__}
    version = str(getattr(engine, "meta", {}).get("version", ""))
    return {"generation": generation, "analysis": analysis, "error": None, "model_version": version}


def camera_frames(device: int = 0, interval_s: float = 0.04,
                  capture_factory: Callable[[int], Any] | None = None) -> Generator[QImage, None, int]:
    """Frames from an OpenCV camera as QImages (thread-safe, unlike QPixmap); a job for :class:`Task`."""
    import cv2

    factory = capture_factory or cv2.VideoCapture
    cap = factory(device)
    try:
        if cap is None or not cap.isOpened():
            raise RuntimeError(f"no camera at device {device}")
        frames = 0
        failures = 0
        while True:
            ok, bgr = cap.read()
            if not ok or bgr is None:
                failures += 1
                if failures > 25:
                    raise RuntimeError(f"camera {device} stopped sending frames")
                time.sleep(interval_s)
                yield None  # lets a cancel stop a camera that sends nothing
                continue
            failures = 0
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            h, w, _ = rgb.shape
            yield QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
            frames += 1
            time.sleep(interval_s)
        return frames
    finally:
        if cap is not None:
            cap.release()

def read_batch_folder(folder: Path) -> tuple[list[tuple[str, str, str]], list[dict[str, str]]]:
    """Records of a folder and the problems found reading it.

    Each ``*.txt`` is one record (id = file name), each line of a ``*.jsonl`` one record.
    Returns ``(items, problems)``: items are ``(id, text, source)`` with source ``a.txt`` or
    ``c.jsonl:3``; problems are ``{"source", "reason"[, "detail"]}`` (reason codes) for what could not be read (bad JSON on
    a line, an empty text, not UTF-8), so one bad line never stops the batch.
    """
    items: list[tuple[str, str, str]] = []
    problems: list[dict[str, str]] = []
    for path in sorted(Path(folder).iterdir()):
        suffix = path.suffix.lower()
        if suffix not in (".txt", ".jsonl") or not path.is_file():
            continue
        try:
            content = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append({"source": path.name, "reason": "unreadable", "detail": str(exc)})
            continue
        if suffix == ".txt":
            text = content.strip()
            if text:
                items.append((path.stem, text, path.name))
            else:
                problems.append({"source": path.name, "reason": "empty"})
            continue
        for n, line in enumerate(content.splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path.name}:{n}"
            try:
                d = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append({"source": where, "reason": "bad_json", "detail": exc.msg})
                continue
            text = str(d.get("text", "")).strip() if isinstance(d, dict) else ""
            if not text:
                problems.append({"source": where, "reason": "no_text"})
                continue
            items.append((str(d.get("id") or f"{path.stem}-{n}"), text, where))
    return items, problems


def _slices(n: int, first: int = 1, largest: int = 32) -> Iterator[tuple[int, int]]:
    """Growing batches (1, 2, 4 … ``largest``): progress shows after the first record, later ones batch."""
    i, size = 0, first
    while i < n:
        yield i, min(n, i + size)
        i += size
        size = min(largest, size * 2)


def import_folder(engine: Any, db_path: Path, folder: Path, user: str = ""
                  ) -> Generator[dict[str, Any], None, dict[str, Any]]:
    """Structure every record of a folder and save each to the database (its own connection).

    A job for :class:`Task` with ``report_when_cancelled``: a cancelled batch still
    reports what it saved, since those records are in the database. Yields one log entry
    per record or problem (``source``, ``id``, ``outcome`` saved/skipped/error, ``reason``,
    ``done``, ``total``). A record that is already saved and reviewed is never replaced: the
    fresh analysis is merged into it (:func:`tcm_desktop.review_merge.import_decision`).
    """
    from tcm_desktop.records.database import Database
    from tcm_desktop.records.queue import record_title
    from tcm_desktop.review_merge import import_decision

    items, problems = read_batch_folder(folder)
    total = len(items)
    done = 0
    for p in problems:
        yield {"source": p["source"], "id": "", "outcome": "error", "reason": p["reason"],
               "detail": p.get("detail", ""), "done": 0, "total": total}
    saved: list[str] = []
    skipped: list[str] = []
    cancelled = False
    with Database(db_path) as db:
        try:
            for a, b in _slices(total):
                part = items[a:b]
                for (rid, _text, source), rec in zip(part, engine.structure_many([(i, t) for i, t, _ in part]),
                                                     strict=True):
                    done += 1
                    old = db.load_record(rid) if db.record_exists(rid) else None
                    to_save, reason = import_decision(old, rec)
                    if to_save is None:
                        skipped.append(rid)
                        yield {"source": source, "id": rid, "outcome": "skipped", "reason": reason, "done": done,
                               "total": total}
                        continue
                    info = db.record_info(rid) or {}
                    db.save_record(to_save, patient_id=info.get("patient_id"), user=user,
                                   title=record_title(to_save),
                                   actions=[{"action": "import", "before": None, "after": {"source": source,
                                                                                          "decision": reason}}])
                    saved.append(rid)
                    yield {"source": source, "id": rid, "outcome": "saved", "reason": reason, "done": done,
                           "total": total}
        except Cancelled:
            cancelled = True
    return {"saved": saved, "skipped": skipped, "errors": len(problems), "total": total, "cancelled": cancelled}


class WorkerPool(QObject):
    """Owns running jobs and their threads; keeps Python references alive until each thread ends."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: dict[QThread, Task] = {}

    def start(self, worker: Task) -> QThread:
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
    def running(self) -> list[Task]:
        return [w for t, w in self._jobs.items() if t.isRunning()]

    def shutdown(self, timeout_ms: int = 3000) -> None:
        """Cancel everything and wait (bounded) for the threads, e.g. when the window closes."""
        for w in self._jobs.values():
            w.cancel()
        for t in list(self._jobs):
            t.quit()
            t.wait(timeout_ms)
        self._jobs.clear()
