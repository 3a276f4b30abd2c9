"""繁體中文 interface: the compiled translation, converted names, the structured view's template findings."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import tcm_desktop.ui  # noqa: F401  (applies the None-refcount guard before Qt is used)
from tcm_desktop.structured import FoundEntity, StructuredRecord

UI = Path(__file__).resolve().parents[1] / "tcm_desktop" / "ui"


def test_traditional_interface_is_available(qtbot):
    from tcm_desktop.ui.i18n import LANGUAGES, assertion_name, category_name, install_language, is_traditional, t

    assert "zh_Hant" in LANGUAGES
    try:
        assert install_language("zh_Hant") and is_traditional()
        assert t("历史记录") == "歷史記錄"
        assert category_name("SYMPTOM") == "症狀" and assertion_name("history") == "既往"
    finally:
        install_language("zh")
    assert t("历史记录") == "历史记录" and category_name("SYMPTOM") == "症状" and not is_traditional()


def test_every_english_source_string_has_a_traditional_translation():
    en = {m.findtext("source") for m in ET.parse(UI / "translations" / "tcm_en.ts").getroot().iter("message")}
    hant = {m.findtext("source"): m.findtext("translation")
            for m in ET.parse(UI / "translations" / "tcm_zh_Hant.ts").getroot().iter("message")}
    assert en and not [s for s in en if not hant.get(s)]
    qm = UI / "translations" / "tcm_zh_Hant.qm"
    assert qm.exists() and qm.stat().st_mtime >= (UI / "translations" / "tcm_zh_Hant.ts").stat().st_mtime - 1


def test_structured_view_lists_template_findings_as_findings(qtbot):
    from tcm_desktop.ui.structured_view import structured_html

    text = "問診：食慾：不好，口渴：無。"
    a, b = text.index("食慾：不好"), text.index("口渴：無")
    rec = StructuredRecord("x", text, [FoundEntity(a, a + 5, "SYMPTOM", "食慾：不好"),
                                        FoundEntity(b, b + 4, "SYMPTOM", "口渴：無", "absent")])
    html = structured_html(rec)
    row = html[html.index("食慾：不好") - 200 :]
    assert row.index("食慾：不好") < row.index("口渴：無")  # present column first, the negated one after


def test_language_is_chosen_in_settings_and_the_pdf_follows_it(qtbot, tmp_path):
    import shutil
    import subprocess

    from desktop_samples import FakeEngine
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMenu

    from tcm_desktop.records.database import Database
    from tcm_desktop.ui.i18n import install_language, setting_language
    from tcm_desktop.ui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    db = Database(tmp_path / "ui.sqlite3")
    eng = FakeEngine()
    w = MainWindow(lambda: eng, db, settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.engine is not None, timeout=20000)
    try:
        actions = {a.text(): a for m in w.menuBar().findChildren(QMenu) for a in m.actions() if a.isCheckable()}
        assert {"简体中文", "繁體中文", "English"} <= set(actions)
        actions["繁體中文"].trigger()
        assert settings.value("ui/language") == "zh_Hant" and setting_language(settings) == "zh_Hant"
        assert actions["繁體中文"].isChecked() and not actions["简体中文"].isChecked()
        assert install_language("zh_Hant")
        w.editor.setPlainText("主诉：头痛三天。")
        out = w.export_pdf(tmp_path / "r.pdf")
        assert out is not None and out.exists()
        pdftotext = shutil.which("pdftotext") or "pdftotext"  # poppler-utils: `make test` installs it
        text = subprocess.run([pdftotext, str(out), "-"], capture_output=True, text=True, check=True).stdout
        assert "病歷原文" in text and "主诉：头痛三天" in text
    finally:
        install_language("zh")
        w.pool.shutdown()
        db.close()
