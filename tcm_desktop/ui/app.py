"""Application entry: ``main(argv)`` starts the GUI, ``self_test()`` is the headless smoke check of a build.

Start-up stays under two seconds because nothing slow happens before the
window is shown: the engine (model) is built by a worker right after, and the
window is usable meanwhile. The shipped WenQuanYi Micro Hei font is registered
with Qt so Chinese renders even on a PC without CJK fonts (a fresh Windows
install in English, a minimal Linux). UI language: Chinese by default;
English via the ``ui/language`` setting (or ``TCM_LANG=en``), loaded from the
compiled Qt translation ``translations/tcm_en.qm`` (see :mod:`.i18n`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from typing import Any

SAMPLE_TEXT = (
    "主诉：反复胃脘胀痛3年，加重1周。\n"
    "现病史：患者3年前因饮食不节出现胃脘胀痛，嗳气，纳差，无反酸。\n"
    "舌脉：舌淡红，边有齿痕，苔薄白，脉弦细。\n"
    "诊断：胃脘痛（肝郁脾虚证）。\n"
    "治法：疏肝健脾，理气止痛。\n"
    "处方：柴胡疏肝散加减：柴胡10g，白芍15g，炙甘草6g。7剂，水煎服，日一剂。"
)


def default_engine_factory() -> Any:
    """The real engine from the chosen model (shipped or local adapted) with the clinic dictionary
    (imported lazily: onnxruntime loads on the worker thread)."""
    from tcm_desktop.local_models import active_model_dir
    from tcm_desktop.text.clinic_dictionary import ClinicDictionary
    from tcm_desktop.text.engine import StructuringEngine

    return StructuringEngine(active_model_dir(), dictionary=ClinicDictionary.load())


def install_fonts(app: Any) -> str | None:
    """Register the bundled CJK font and make it the UI font; returns the family used (None if missing)."""
    from PySide6.QtGui import QFont, QFontDatabase

    from tcm_desktop.config import cjk_font_path

    path = cjk_font_path()
    family = None
    if path.exists():
        fid = QFontDatabase.addApplicationFont(str(path))
        fams = QFontDatabase.applicationFontFamilies(fid) if fid >= 0 else []
        family = next((f for f in fams if "Mono" not in f), fams[0] if fams else None)
    if family:
        f = QFont(family)
        f.setPointSizeF(max(app.font().pointSizeF(), 10.0))
        app.setFont(f)
    return family


def drop_opencv_qt_paths() -> None:
    """Undo what the non-headless OpenCV wheel (a dependency of rapidocr) does on import: point Qt at its Qt 5 plugins."""
    for key in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR"):
        if f"cv2{os.sep}qt" in os.environ.get(key, ""):
            del os.environ[key]


def user_settings() -> Any:
    """The app's settings: an INI file in the user data folder (beside the database), not the home folder."""
    from PySide6.QtCore import QSettings

    from tcm_desktop.config import user_dir

    path = user_dir() / "settings.ini"
    path.parent.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path), QSettings.Format.IniFormat)


def create_app(argv: Sequence[str] | None = None) -> Any:
    """The QApplication (reused when one exists), with fonts, organisation names and language installed."""
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from tcm_desktop.ui.i18n import install_language, setting_language

    app = QApplication.instance()
    if app is None:
        drop_opencv_qt_paths()
        QCoreApplication.setOrganizationName("tcm-structurer")
        QCoreApplication.setApplicationName("TCM Structurer")
        app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    install_fonts(app)
    install_language(setting_language(user_settings()))
    return app


def main(argv: Sequence[str] | None = None) -> int:
    """Start the GUI; ``--self-test`` runs :func:`self_test` instead."""
    args = list(argv if argv is not None else sys.argv[1:])
    if "--self-test" in args:
        return self_test()
    from tcm_desktop.records.database import default_db_path
    from tcm_desktop.ui.lock import offer_encryption
    from tcm_desktop.ui.main_window import MainWindow

    app = create_app([sys.argv[0], *args])
    settings = user_settings()
    path = default_db_path()
    new_passphrase = offer_encryption(path, settings)  # first start only: offer an encrypted database
    db = open_database_or_ask(path, passphrase=new_passphrase)
    if db is None:
        return 3
    window = MainWindow(default_engine_factory, db, settings)
    window.show()
    rc = app.exec()
    db.close()
    return int(rc)


def open_database_or_ask(path: Any, ask: Any = None, ask_passphrase: Any = None, passphrase: str | None = None) -> Any:
    """Open the record database; when it is damaged, ask what to do (restore / other file / new).

    An encrypted file asks for its passphrase first (``passphrase`` creates a new
    file encrypted); a file without the SQLite header whose passphrase prompt is
    cancelled is treated as damaged. The damaged file is renamed aside, never
    deleted. Returns the open :class:`Database`, or None when the user gives up.
    Automatic backups rotate here (at most one a day). ``ask`` and
    ``ask_passphrase`` replace the dialogs in tests.
    """
    from pathlib import Path

    from tcm_desktop.records.backup import BackupError, all_backups, restore, rotate_backups, set_aside
    from tcm_desktop.records.database import Database, DatabaseBusy, StorageError, default_db_path
    from tcm_desktop.ui.damaged_dialog import DamagedDialog
    from tcm_desktop.ui.lock import open_database

    path = Path(path) if path else default_db_path()
    for _ in range(5):
        try:
            if passphrase:
                db = Database(path, passphrase=passphrase, busy_timeout_s=0.25)
            else:
                db = open_database(path, ask_passphrase, busy_timeout_s=0.25)
                if db is None:
                    raise StorageError(f"database {path} is encrypted or damaged and no passphrase was given")
            try:
                rotate_backups(db.path)
            except BackupError as exc:
                print(f"warning: automatic backup failed: {exc}", file=sys.stderr)
            return db
        except DatabaseBusy:
            time.sleep(1)  # another program is upgrading or writing: not damage, wait and try again
            continue
        except (StorageError, OSError) as exc:
            backups = all_backups(path)
            choice, other = (ask or DamagedDialog.ask)(str(exc), path, backups[0] if backups else None)
            if choice == "restore" and backups:
                try:
                    restore(path, backups[0])
                except BackupError as err:
                    print(f"error: {err}", file=sys.stderr)
            elif choice == "new":
                set_aside(path)
            elif choice == "other" and other:
                path = Path(other)
            else:
                return None
    return None


def self_test(text: str = SAMPLE_TEXT) -> int:
    """Headless smoke test of an installed/built app: load the engine, analyse a sample, build the window offscreen.

    Exits 0 only when the model loads, finds entities, and the GUI stack
    (Qt platform plugin, fonts, translations, report font) is present.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    t0 = time.perf_counter()
    try:
        engine = default_engine_factory()
        rec = engine.structure(text, "self-test")
    except Exception as exc:  # noqa: BLE001 - report any failure as a failed self-test
        print(f"SELF-TEST FAILED: engine: {exc}", file=sys.stderr)
        return 1
    t_engine = time.perf_counter() - t0
    if not rec.entities:
        print("SELF-TEST FAILED: the engine found no entities in the sample record", file=sys.stderr)
        return 1
    labels = sorted({e.label for e in rec.entities})
    try:
        import tempfile
        from pathlib import Path

        from PySide6.QtCore import QSettings

        from tcm_desktop.records.database import Database
        from tcm_desktop.records.report_pdf import write_report
        from tcm_desktop.ui.main_window import MainWindow

        app = create_app(["tcm-desktop"])
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(Path(tmp) / "self-test.sqlite3")
            settings = QSettings(str(Path(tmp) / "settings.ini"), QSettings.Format.IniFormat)
            w = MainWindow(lambda: engine, db, settings, load_model=False)
            w.engine = engine
            w.controller.load(rec)
            w.editor.set_text(rec.text)
            app.processEvents()
            rid, _ = w.save()
            write_report(Path(tmp) / "self-test.pdf", db.load_record(rid))
            w.close()
            db.close()
    except Exception as exc:  # noqa: BLE001
        print(f"SELF-TEST FAILED: gui/report: {exc}", file=sys.stderr)
        return 1
    print(f"self-test ok: engine {getattr(engine, 'version', '?')} loaded+analysed in {t_engine:.2f}s, "
          f"{len(rec.entities)} entities ({', '.join(labels)}); window, database and PDF ok")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
