"""Offscreen screenshots of the main GUI states into docs/screenshots/*.png.

Why: the docs and reviews need to show what a doctor sees, and rendering
offscreen catches missing CJK glyphs (tofu boxes) or broken layouts without a
display. Uses the real engine when the shipped model exists
(``models/ner``), else the scripted fake engine of the tests, so it runs on
any checkout:

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import tcm_desktop.ui  # noqa: E402,F401
from tcm_desktop.config import data_dir  # noqa: E402

PHOTO = data_dir() / "tongue" / "ianmackenzie_seg741" / "images" / "2018101001_0.jpg"


def _engine_factory():
    """The real engine if the model is shipped, else the tests' fake (same API)."""
    try:
        from tcm_desktop.text.engine import StructuringEngine

        return StructuringEngine()
    except Exception as exc:  # noqa: BLE001
        print(f"real engine unavailable ({exc}); using the fake engine")
        from desktop_samples import FakeEngine

        return FakeEngine()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    import tempfile

    from desktop_samples import SAMPLE_TEXT
    from PySide6.QtCore import QEventLoop, QSettings, Qt, QTimer
    from PySide6.QtGui import QColor, QImage, QPainter, QRadialGradient
    from PySide6.QtWidgets import QMenu

    from tcm_desktop.records.database import Database
    from tcm_desktop.ui.app import create_app
    from tcm_desktop.ui.main_window import MainWindow
    from tcm_desktop.ui.tongue.panel import image_to_png

    app = create_app(["screenshots"])

    def spin(ms: int) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def wait(cond, timeout_ms: int = 60000) -> None:
        waited = 0
        while not cond() and waited < timeout_ms:
            spin(20)
            waited += 20

    def save(widget, name: str) -> Path:
        path = args.out / f"{name}.png"
        widget.grab().save(str(path))
        print("wrote", path)
        return path

    tmp = Path(tempfile.mkdtemp())
    db = Database(tmp / "shots.sqlite3")
    settings = QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("user/clinic", "仁心中医诊所")
    settings.setValue("user/doctor", "李医生")
    w = MainWindow(_engine_factory, db, settings)
    w.resize(1280, 800)
    w.show()
    spin(100)
    save(w, "01-empty")
    wait(lambda: w.engine is not None or w.engine_error is not None)

    w.patient.setText("王某")
    w.editor.setPlainText(SAMPLE_TEXT)
    w.analyse()
    wait(lambda: not w.analysing)
    ents = w.controller.state.entities
    # show some review states: accepted, corrected, added
    if len(ents) > 3:
        w.controller.accept(0)
        w.controller.accept(1)
        i = next((k for k, e in enumerate(w.controller.state.entities) if e.text == "嗳气"), 2)
        w.controller.relabel("SIGN", i)
    s = SAMPLE_TEXT.index("反复")
    if all(not (e.start < s + 2 and s < e.end) for e in w.controller.state.entities):
        w.controller.add(s, s + 2, "SYMPTOM")
    w.controller.set_current(3 if len(w.controller.state.entities) > 3 else None)
    spin(100)
    save(w, "02-analysed")

    # the entity menu, opened on an entity, with the category submenu
    target = next((k for k, e in enumerate(w.controller.state.entities) if e.text == "纳差"), 0)
    if w.controller.state.entities:
        menu = w.editor.build_context_menu(w.editor.entity_rect(target))
        pos = w.editor.viewport().mapToGlobal(w.editor.entity_rect(target))
        menu.popup(pos)
        spin(100)
        cats = menu.findChild(QMenu, "categoryMenu")
        if cats is not None:
            menu.setActiveAction(cats.menuAction())
            cats.popup(menu.geometry().topRight())
        spin(150)
        # compose window + popups into one image (popups are separate top-level windows offscreen)
        shot = w.grab().toImage()
        painter = QPainter(shot)
        for popup in (menu, cats):
            if popup is not None and popup.isVisible():
                p = w.mapFromGlobal(popup.geometry().topLeft())
                painter.drawImage(p, popup.grab().toImage())
        painter.end()
        path = args.out / "03-entity-menu.png"
        shot.save(str(path))
        print("wrote", path)
        if cats is not None:
            cats.close()
        menu.close()

    w.tabs.setCurrentWidget(w.structured_view)
    spin(100)
    save(w, "04-structured")

    # tongue panel: a real photo from the shared data (MIT-licensed Seg741 set), analysed by the
    # shipped tongue model; a synthetic drawing when the shared data is not here
    w.tabs.setCurrentWidget(w.tongue_panel)
    panel = w.tongue_panel
    if not (PHOTO.exists() and panel.load_file(PHOTO)):
        img = QImage(480, 360, QImage.Format.Format_RGB32)
        img.fill(QColor("#f3e6e0"))
        p = QPainter(img)
        grad = QRadialGradient(240, 200, 170)
        grad.setColorAt(0, QColor("#e89a9a"))
        grad.setColorAt(1, QColor("#c86868"))
        p.setBrush(grad)
        p.setPen(Qt.PenStyle.NoPen)
        p.drawEllipse(110, 60, 260, 280)
        p.end()
        panel.set_photo(image_to_png(img))
    wait(lambda: not panel.analysing)
    panel.camera_status.setText("")
    spin(150)
    save(w, "05-tongue")

    w.close()
    db.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
