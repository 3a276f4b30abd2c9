"""繁體中文 interface: the compiled translation, converted names, the structured view's template findings."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

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
