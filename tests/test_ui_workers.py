"""The one way to run work off the GUI thread: results, errors, progress per yield, cancel."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Slot

import tcm_desktop.ui  # noqa: F401  (applies the None-refcount guard before Qt is used)
from tcm_desktop.progress import Cancelled, run_to_end
from tcm_desktop.ui.workers import Task, WorkerPool


class Sink(QObject):
    """Receives a task's signals on the GUI thread (bound slots, as the app does)."""

    def __init__(self) -> None:
        super().__init__()
        self.steps: list[object] = []
        self.results: list[object] = []
        self.errors: list[str] = []
        self.threads: list[int] = []

    @Slot(object)
    def step(self, value: object) -> None:
        self.steps.append(value)

    @Slot(object)
    def result(self, value: object) -> None:
        self.results.append(value)
        self.threads.append(threading.get_ident())

    @Slot(str)
    def error(self, message: str) -> None:
        self.errors.append(message)


def _start(qtbot, task: Task) -> Sink:
    sink = Sink()
    task.progress.connect(sink.step)
    task.result.connect(sink.result)
    task.error.connect(sink.error)
    pool = WorkerPool()
    with qtbot.waitSignal(task.finished, timeout=5000):
        pool.start(task)
    qtbot.wait(20)  # let the queued signals arrive
    pool.shutdown()
    return sink


def _work_thread() -> int:
    return threading.get_ident()


def test_function_runs_off_the_gui_thread_and_reports_its_result(qtbot) -> None:
    sink = _start(qtbot, Task(_work_thread))
    assert len(sink.results) == 1
    assert sink.results[0] != threading.get_ident()
    assert sink.threads == [threading.get_ident()]  # delivered to the GUI thread


def _counting(n: int):
    for i in range(n):
        yield (i + 1, n)
    return "done"


def test_generator_yields_become_progress_and_its_return_the_result(qtbot) -> None:
    sink = _start(qtbot, Task(_counting, 3))
    assert sink.steps == [(1, 3), (2, 3), (3, 3)]
    assert sink.results == ["done"]


def _failing() -> None:
    raise ValueError("记录无法读取")


def test_an_exception_becomes_one_error_message(qtbot) -> None:
    sink = _start(qtbot, Task(_failing))
    assert sink.errors == ["记录无法读取"] and sink.results == []


def _saving(saved: list[int], holder: list[Task]):
    """Saves items; the user presses cancel while item 2 is being saved."""
    try:
        for i in range(100):
            saved.append(i)
            if i == 2:
                holder[0].cancel()
            yield (i, 100)
    except Cancelled:
        return {"saved": list(saved), "cancelled": True}
    return {"saved": list(saved), "cancelled": False}


def test_cancel_lets_a_job_report_what_it_did_or_closes_it(qtbot) -> None:
    saved: list[int] = []
    holder: list[Task] = []
    task = Task(_saving, saved, holder, report_when_cancelled=True)
    holder.append(task)
    sink = _start(qtbot, task)
    assert sink.results == [{"saved": [0, 1, 2], "cancelled": True}]

    saved2: list[int] = []
    holder2: list[Task] = []
    quiet = Task(_saving, saved2, holder2)
    holder2.append(quiet)
    sink2 = _start(qtbot, quiet)
    assert sink2.results == [] and saved2 == [0, 1, 2]


def test_run_to_end_drives_a_job_without_qt() -> None:
    assert run_to_end(_counting(4)) == "done"
