"""Colour legend: every category with its colour and review key, plus what the status styles mean.

Why always visible: colour is the only cue for category while reading, and the
keys are the fastest way to correct one; a doctor should not have to open a
menu to learn either.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from tcm_desktop.schema import CATEGORIES
from tcm_desktop.ui.i18n import category_name, t


def legend_html() -> str:
    chips = " ".join(
        f'<span style="background-color:{c.colour}; white-space:nowrap">&nbsp;{escape(category_name(c.code))}'
        f'&nbsp;<span style="color:#555">{escape(c.shortcut)}</span>&nbsp;</span>'
        for c in CATEGORIES
    )
    styles = (
        f'<span style="white-space:nowrap">{escape(t("未审核"))}</span> · '
        f'<b style="white-space:nowrap">{escape(t("已确认"))}</b> · '
        f'<u style="white-space:nowrap">{escape(t("已修改"))}</u> · '
        f'<i style="text-decoration: underline dotted; white-space:nowrap">{escape(t("新增"))}</i> · '
        f'<span style="text-decoration:line-through; white-space:nowrap">{escape(t("否定"))}</span>'
    )
    return f"{chips}<br/>{styles} &nbsp; <span style='color:#666'>{escape(t('Alt+键 改类别'))}</span>"


class Legend(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("legend")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(True)
        self.setText(legend_html())
        self.setMargin(4)
