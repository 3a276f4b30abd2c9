"""UI language: Chinese source strings; English and Traditional Chinese (繁體中文) through compiled Qt translations.

Why Chinese source strings: the app is written for Chinese clinics, so the
default UI needs no translation file at all; English is the add-on. All UI
strings go through :func:`t` (one Qt context, ``"tcm"``) so a single ``.ts``
file covers every widget. ``translations/tcm_en.ts`` is the editable source;
``packaging/build.sh`` compiles it to ``tcm_en.qm`` with ``pyside6-lrelease``
(shipped in the PySide6 wheels) and the compiled file is checked in. Category names do not go through Qt:
``schema.py`` already holds both languages and stays the single source.

Traditional Chinese (``zh_Hant``, for clinics in Hong Kong, Taiwan, Macau and
overseas) is ``translations/tcm_zh_Hant.ts``: made from the source strings with
OpenCC ``s2t`` by ``scripts/make_zh_hant_ts.py`` (then reviewable like any .ts)
and compiled the same way; category, assertion and status names are converted
with the same converter so they cannot drift from ``schema.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QSettings, QTranslator

from tcm_desktop.schema import ASSERTION_ZH, CATEGORY_BY_CODE
from tcm_desktop.text.script import to_traditional

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
CONTEXT = "tcm"
LANGUAGES = ("zh", "zh_Hant", "en")
#: Menu labels, each in its own language.
LANGUAGE_LABELS = {"zh": "简体中文", "zh_Hant": "繁體中文", "en": "English"}

_language = "zh"
_translator: QTranslator | None = None

ASSERTION_EN = {"present": "present", "absent": "absent", "possible": "possible", "history": "history",
                "family": "family"}
STATUS_ZH = {"unreviewed": "未审核", "accepted": "已确认", "corrected": "已修改", "added": "新增"}
STATUS_EN = {"unreviewed": "unreviewed", "accepted": "accepted", "corrected": "corrected", "added": "added"}


def t(text: str) -> str:
    """Translate a UI string (Chinese source) into the current language."""
    return QCoreApplication.translate(CONTEXT, text)


def language() -> str:
    return _language


def is_traditional() -> bool:
    """Whether the interface (and so the PDF headings) is in traditional script."""
    return _language == "zh_Hant"


def _zh(text: str) -> str:
    return to_traditional(text) if _language == "zh_Hant" else text


def setting_language(settings: QSettings | None) -> str:
    """The configured language: ``TCM_LANG`` env var, then the ``ui/language`` setting, default Chinese."""
    env = os.environ.get("TCM_LANG")
    if env in LANGUAGES:
        return env
    if settings is not None:
        value = str(settings.value("ui/language", "zh"))
        if value in LANGUAGES:
            return value
    return "zh"


def install_language(lang: str) -> bool:
    """Install the translator for ``lang`` on the running QCoreApplication; True when it is active."""
    global _language, _translator
    app = QCoreApplication.instance()
    if _translator is not None and app is not None:
        app.removeTranslator(_translator)
        _translator = None
    _language = "zh"
    if lang == "zh" or app is None:
        return lang == "zh"
    tr = QTranslator(app)
    if not tr.load(str(TRANSLATIONS_DIR / f"tcm_{lang}.qm")):
        return False
    app.installTranslator(tr)
    _translator = tr
    _language = lang
    return True


def category_name(code: str) -> str:
    cat = CATEGORY_BY_CODE.get(code)
    if cat is None:
        return code
    return cat.en if _language == "en" else _zh(cat.zh)


def assertion_name(value: str) -> str:
    return ASSERTION_EN.get(value, value) if _language == "en" else _zh(ASSERTION_ZH.get(value, value))


def status_name(value: str) -> str:
    return STATUS_EN.get(value, value) if _language == "en" else _zh(STATUS_ZH.get(value, value))
