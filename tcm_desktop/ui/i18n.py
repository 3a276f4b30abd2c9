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

Qt's own strings (standard buttons, file and message dialogs, the editor's
context menu) come from Qt's translations shipped in PySide6's
``translations`` folder (``qtbase_zh_CN.qm``), installed with the app's
language, so a Chinese UI has no English buttons. Switching the language
swaps both translators at run time; windows then set their texts again.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QSettings, QTranslator

from tcm_desktop.schema import ASSERTION_ZH, CATEGORY_BY_CODE
from tcm_desktop.text.script import to_traditional

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
CONTEXT = "tcm"
LANGUAGES = ("zh", "zh_Hant", "en")
#: Menu labels, each in its own language.
LANGUAGE_LABELS = {"zh": "简体中文", "zh_Hant": "繁體中文", "en": "English"}

_language = "zh"
_translator: QTranslator | None = None
_qt_translator: QTranslator | None = None
QT_LOCALES = {"zh": "zh_CN", "en": "en"}

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


def qt_translations_dir() -> Path:
    """Where PySide6 keeps Qt's own ``.qm`` files."""
    return Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))


def install_language(lang: str) -> bool:
    """Install the translators for ``lang`` (the app's and Qt's own); True when the app's is active."""
    global _language, _translator, _qt_translator
    app = QCoreApplication.instance()
    if app is not None:
        for tr in (_translator, _qt_translator):
            if tr is not None:
                app.removeTranslator(tr)
    _translator = _qt_translator = None
    _language = "zh"
    if app is None:
        return lang == "zh"
    qt_tr = QTranslator(app)
    if qt_tr.load(f"qtbase_{QT_LOCALES.get(lang, lang)}", str(qt_translations_dir())):
        app.installTranslator(qt_tr)
        _qt_translator = qt_tr
    if lang == "zh":
        return True
    tr = QTranslator(app)
    if not tr.load(str(TRANSLATIONS_DIR / f"tcm_{lang}.qm")):
        return False
    app.installTranslator(tr)
    _translator = tr
    _language = lang
    return True


def qt_language_installed() -> bool:
    """Whether Qt's own translation (standard buttons, dialogs) is installed."""
    return _qt_translator is not None and not _qt_translator.isEmpty()


def category_name(code: str) -> str:
    cat = CATEGORY_BY_CODE.get(code)
    if cat is None:
        return code
    return cat.en if _language == "en" else _zh(cat.zh)


def assertion_name(value: str) -> str:
    return ASSERTION_EN.get(value, value) if _language == "en" else _zh(ASSERTION_ZH.get(value, value))


def status_name(value: str) -> str:
    return STATUS_EN.get(value, value) if _language == "en" else _zh(STATUS_ZH.get(value, value))
