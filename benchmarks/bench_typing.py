"""Keystroke latency in the record editor with 1,000 entities (offscreen Qt, the real window).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_typing.py [--entities 1000] [--keys 40] [--json OUT]

Why: a doctor types into records with hundreds of highlighted entities; a
keystroke must be shown at once. Each key is sent as a real key event into
the editor of a :class:`~tcm_desktop.ui.main_window.MainWindow` and the time
until the event has been handled (the review state updated, the text shown)
is measured per key, as p50/p95/max. Typing at the start of the text is the
worst case: every entity after the cursor shifts. The deferred redraw of all
highlights (once typing pauses) is timed separately. The record is synthetic
(``嗳气，纳差`` repeated, ten findings a line, every finding an entity) so the count is exact; the
engine is not involved.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entities", type=int, default=1000)
    ap.add_argument("--keys", type=int, default=40)
    ap.add_argument("--json", help="also write the numbers to this file")
    args = ap.parse_args(argv)

    from PySide6.QtCore import QEvent, QSettings, Qt
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication

    import tcm_desktop.ui  # noqa: F401
    from tcm_desktop.records.database import Database
    from tcm_desktop.structured import FoundEntity, StructuredRecord
    from tcm_desktop.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(["bench"])
    n_pairs = args.entities // 2
    # ten findings per line, like the sections of a long record (a line is a paragraph to Qt)
    text = "".join("嗳气，纳差" + ("\n" if k % 5 == 4 else "。") for k in range(n_pairs))
    ents = []
    for k in range(n_pairs):
        base = k * 6
        ents.append(FoundEntity(base, base + 2, "SYMPTOM", "嗳气", score=0.9))
        ents.append(FoundEntity(base + 3, base + 5, "SYMPTOM", "纳差", score=0.9))
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "b.sqlite3")
        settings = QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat)
        w = MainWindow(lambda: None, db, settings, load_model=False)
        w.ask_unsaved = lambda: "discard"
        w.resize(1280, 800)
        w.show()
        w.editor.setPlainText(text)
        w.controller.analysis_result(StructuredRecord("", text, ents))
        app.processEvents()
        assert len(w.controller.state.entities) == len(ents)
        c = w.editor.textCursor()
        c.setPosition(0)
        w.editor.setTextCursor(c)
        w.editor.setFocus()
        lat = []
        chars = ("今日复诊咳嗽少许痰白" * (args.keys // 10 + 1))[: args.keys]
        for ch in chars:
            t0 = time.perf_counter()
            QApplication.sendEvent(w.editor, QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_unknown,
                                                       Qt.KeyboardModifier.NoModifier, ch))
            app.processEvents()
            lat.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        w.controller.flush()  # the redraw that runs once typing pauses
        app.processEvents()
        redraw = time.perf_counter() - t0
        st = w.controller.state
        assert all(st.text[e.start:e.end] == e.text for e in st.entities)
        w.close()
        db.close()
    ms = sorted(x * 1000 for x in lat)
    out = {
        "entities": len(ents), "keys": len(ms),
        "keystroke_ms_p50": round(statistics.median(ms), 2),
        "keystroke_ms_p95": round(ms[int(0.95 * (len(ms) - 1))], 2),
        "keystroke_ms_max": round(ms[-1], 2),
        "keys_over_100ms": sum(x > 100 for x in ms),
        "redraw_after_pause_ms": round(redraw * 1000, 1),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
    }
    print(json.dumps(out, ensure_ascii=False, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
