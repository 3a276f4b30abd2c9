"""Colour legend: every category with its colour and review key, plus what the status and assertion cues mean.

Why always visible: colour is the only cue for category while reading, and the
keys are the fastest way to correct one; a doctor should not have to open a
menu to learn either. The keys are shown as they work -- ``Alt+5`` -- because a
bare ``5`` types into the record.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from tcm_desktop.schema import CATEGORIES
from tcm_desktop.ui.i18n import assertion_name, category_name, t
from tcm_desktop.ui.record_editor import ASSERTION_CUES


def legend_html() -> str:
    chips = " ".join(
        f'<span style="background-color:{c.colour}; white-space:nowrap">&nbsp;{escape(category_name(c.code))}'
        f'&nbsp;<span style="color:#555">Alt+{escape(c.shortcut.upper())}</span>&nbsp;</span>'
        for c in CATEGORIES
    )
    styles = (
        f'<span style="white-space:nowrap">{escape(t("未审核"))}</span> · '
        f'<b style="white-space:nowrap">{escape(t("已确认"))}</b> · '
        f'<u style="white-space:nowrap">{escape(t("已修改"))}</u> · '
        f'<i style="text-decoration: underline dotted; white-space:nowrap">{escape(t("新增"))}</i>'
    )
    cues = " · ".join(
        f'<span style="color:{colour}; white-space:nowrap'
        f'{"; text-decoration:line-through" if a == "absent" else ""}">{escape(assertion_name(a))}</span>'
        for a, colour in ASSERTION_CUES.items()
    )
    styles += " &nbsp;|&nbsp; " + cues
    return f"{chips}<br/>{styles} &nbsp; <span style='color:#666'>{escape(t('Alt+键 改类别'))}</span>"


class Legend(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("legend")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setMargin(4)
        self.refresh()

    def refresh(self) -> None:
        self.setText(legend_html())
