"""The insights window on the hand-counted toy clinic: mining off the UI thread, filters, records, similar cases."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from desktop_samples import FakeEngine  # noqa: E402
from PySide6.QtCore import QSettings, Qt  # noqa: E402

import tcm_desktop.ui  # noqa: E402,F401  (applies the None-refcount guard before Qt is used)
from tcm_desktop.records.database import Database  # noqa: E402
from tcm_desktop.ui.insights_window import InsightsWindow  # noqa: E402
from tcm_desktop.ui.main_window import MainWindow  # noqa: E402
from tcm_desktop.ui.workers import WorkerPool  # noqa: E402
from tests.insights_toy import TOY, make_toy_db  # noqa: E402


def _window(qtbot, path, opened=None):
    pool = WorkerPool()
    w = InsightsWindow(path, pool, current_record=lambda: TOY[1], open_record=opened.append if opened is not None else None)
    qtbot.addWidget(w)
    w.show()
    return w, pool


def _rows(w):
    return [tuple(w.table.item(i, j).text() for j in range(3)) + (w.table.item(i, 3).data(Qt.ItemDataRole.DisplayRole),)
            for i in range(w.table.rowCount())]


def test_window_mines_filters_and_opens_records(qtbot, tmp_path):
    opened: list[str] = []
    w, pool = _window(qtbot, make_toy_db(tmp_path / "toy.sqlite3"), opened)
    assert "不是治疗建议" in w.disclaimer.text()
    assert w.mine() and w.mining and not w.mine()  # runs on a worker; a second start is refused
    qtbot.waitUntil(lambda: w.result is not None and not w.mining, timeout=20000)
    w.kind_box.setCurrentIndex(w.kind_box.findData("symptom-syndrome"))
    w.min_conf.setValue(0.0)
    assert _rows(w) == [("症状→证候", "恶寒", "风寒束表证", 2), ("症状→证候", "头痛", "风寒束表证", 2)]
    assert float(w.table.item(1, 5).text()) == 0.5 and float(w.table.item(1, 6).text()) == 1.25
    assert [r.key for r in w.chart.rules] == [r.key for r in w.shown_rules] and len(w.chart.rules) == 2
    w.search.setText("头痛")
    assert [r[1] for r in _rows(w)] == ["头痛"]
    w.search.setText("")
    w.min_conf.setValue(0.6)
    assert [r[1] for r in _rows(w)] == ["恶寒"]
    # a click on a rule lists the records behind it; a double click opens one in the main window
    w.table.selectRow(0)
    ids = [w.behind.item(i).data(Qt.ItemDataRole.UserRole) for i in range(w.behind.count())]
    assert ids == ["r1", "r2"]
    w.behind.itemDoubleClicked.emit(w.behind.item(1))
    assert opened == ["r2"]
    # similar past cases for the open record (r2): r1 shares both findings
    assert w.similar.item(0).data(Qt.ItemDataRole.UserRole) == "r1"
    w.similar.itemDoubleClicked.emit(w.similar.item(0))
    assert opened == ["r2", "r1"]
    # lowering the minimum count below what was mined mines again (count-1 rules appear)
    w.min_conf.setValue(0.0)
    w.min_count.setValue(1)
    qtbot.waitUntil(lambda: w.result is not None and w.result.min_count == 1 and not w.mining, timeout=20000)
    assert ("症状→证候", "发热", "风热犯表证", 1) in _rows(w)
    assert not w.chart.grab().isNull()
    pool.shutdown()


def test_window_without_database_says_so(qtbot, tmp_path):
    w, pool = _window(qtbot, tmp_path / "none.sqlite3")
    assert not w.mine() and "数据库" in w.status.text()
    assert w.result is None and w.table.rowCount() == 0
    pool.shutdown()


def test_main_window_opens_insights_from_the_menu(qtbot, tmp_path):
    db = Database(make_toy_db(tmp_path / "toy.sqlite3"))
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    mw = MainWindow(lambda: FakeEngine(), db, settings, load_model=False)
    qtbot.addWidget(mw)
    mw.act_insights.trigger()
    iw = mw.insights_window
    qtbot.waitUntil(lambda: iw.result is not None and not iw.mining, timeout=20000)
    assert len(iw.result.transactions) == 5 and iw.table.rowCount() > 0
    iw.behind.itemDoubleClicked.emit(_first_behind(iw))
    assert mw.record_id == "r1"
    mw.pool.shutdown()
    db.close()


def _first_behind(iw):
    iw.kind_box.setCurrentIndex(iw.kind_box.findData("syndrome-formula"))
    iw.table.selectRow(0)
    return iw.behind.item(0)


def test_structured_view_shows_modifications():
    from tcm_desktop.ui.structured_view import structured_html
    from tests.insights_toy import formula_record

    html = structured_html(formula_record())
    assert "加减" in html and "补阳还五汤：加 全蝎；减 红花" in html


def test_reviewed_only_mines_again_with_the_reviewed_records(qtbot, tmp_path):
    w, pool = _window(qtbot, make_toy_db(tmp_path / "toy.sqlite3"))
    w.reviewed_only.setChecked(True)  # starts mining
    assert w.mining
    qtbot.waitUntil(lambda: w.result is not None and not w.mining, timeout=20000)
    assert [t.record_id for t in w.result.transactions] == ["r1", "r2"] and w.result.reviewed_only
    assert "2 份病历" in w.status.text()
    pool.shutdown()
