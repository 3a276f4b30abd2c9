"""Offscreen screenshot of the clinic-insights window on a database of the team records.

    python benchmarks/insights_recovery.py --gold-db /tmp/team_gold.sqlite3   # builds the database
    QT_QPA_PLATFORM=offscreen python scripts/insights_screenshot.py --db /tmp/team_gold.sqlite3 [--out docs/screenshots]

Mines on the window's worker thread exactly as the app does, selects the
strongest symptom→syndrome rule and uses one team record as "the open record"
for the similar-cases list.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

import tcm_desktop.ui  # noqa: E402,F401
from tcm_desktop.records.database import Database  # noqa: E402
from tcm_desktop.ui.insights_window import InsightsWindow  # noqa: E402
from tcm_desktop.ui.workers import WorkerPool  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--open-record", default="", help="record id used as the open record (default: the first)")
    args = ap.parse_args(argv)
    app = QApplication.instance() or QApplication([])
    with Database(args.db) as db:
        rid = args.open_record or db.history(limit=100000)[-1].record_id
        record = db.load_record(rid)
    pool = WorkerPool()
    w = InsightsWindow(args.db, pool, current_record=lambda: record)
    w.resize(1280, 800)
    w.show()
    w.mine()
    while w.mining or w.result is None:
        loop = QEventLoop()
        QTimer.singleShot(50, loop.quit)
        loop.exec()
    w.kind_box.setCurrentIndex(w.kind_box.findData("symptom-syndrome"))
    w.min_count.setValue(3)
    w.min_conf.setValue(0.5)
    w.table.selectRow(0)
    app.processEvents()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "06-insights.png"
    w.grab().save(str(path))
    print(path)
    pool.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
