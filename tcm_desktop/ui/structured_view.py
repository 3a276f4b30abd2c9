"""Read-only structured view of the reviewed record: sections, findings by category, prescription, tongue.

Why separate from the editor: this is what will be filed in the structured
chart; absent findings sit in their own column so a negated symptom cannot be
mistaken for a present one, and normalised names are shown next to what the
doctor wrote.
"""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QTextBrowser, QWidget

from tcm_desktop.schema import CATEGORIES
from tcm_desktop.structured import FoundEntity, StructuredRecord
from tcm_desktop.text.modifications import compare
from tcm_desktop.ui.i18n import assertion_name, category_name, t
from tcm_desktop.ui.review import ReviewController

_TABLE = 'border="1" cellspacing="0" cellpadding="4" width="100%" style="border-collapse:collapse; border-color:#9aa5b1"'


def _finding(e: FoundEntity) -> str:
    return e.reading(escape, lambda c: f' <span style="color:#1f6f43">→ {escape(c)}</span>',
                     lambda a: f' <span style="color:#8a5a00">[{escape(assertion_name(a))}]</span>')


def structured_html(record: StructuredRecord) -> str:
    """HTML for QTextBrowser (Qt's rich-text subset: tables, spans, no CSS layout)."""
    parts: list[str] = []
    if record.sections:
        parts.append(f"<h3>{escape(t('分段'))}</h3><table {_TABLE}>")
        for s in record.sections:
            body = record.text[s.start : s.end].strip()
            parts.append(f"<tr><td width='18%'><b>{escape(s.title)}</b></td><td>{escape(body)}</td></tr>")
        parts.append("</table>")
    rows = []
    for cat in CATEGORIES:
        ents = [e for e in record.entities if e.label == cat.code]
        if not ents:
            continue
        present = "、".join(_finding(e) for e in ents if e.assertion != "absent")
        absent = "、".join(_finding(e) for e in ents if e.assertion == "absent")
        rows.append(f"<tr><td style='background-color:{cat.colour}' width='18%'>{escape(category_name(cat.code))}</td>"
                    f"<td>{present}</td><td>{absent}</td></tr>")
    parts.append(f"<h3>{escape(t('结构化实体'))}</h3>")
    if rows:
        parts.append(f"<table {_TABLE}><tr style='background-color:#eef2f6'><th>{escape(t('类别'))}</th>"
                     f"<th>{escape(t('所见'))}</th><th>{escape(t('否定'))}</th></tr>{''.join(rows)}</table>")
    else:
        parts.append(f"<p style='color:#777'>{escape(t('尚无实体：请先分析病历'))}</p>")
    p = record.prescription
    if p.items or p.formula:
        parts.append(f"<h3>{escape(t('处方'))}</h3>")
        meta = []
        if p.formula:
            meta.append(f"{escape(t('方剂'))}：{escape('、'.join(p.formula))}")
        if p.doses:
            meta.append(f"{escape(t('剂数'))}：{escape(p.doses)}")
        if p.usage:
            meta.append(f"{escape(t('用法'))}：{escape('，'.join(p.usage))}")
        mods = compare(p, entities=record.entities).summary()
        if mods:
            meta.append(f"{escape(t('加减'))}：{escape(mods)}")
        if meta:
            parts.append("<p>" + "　".join(meta) + "</p>")
        if p.items:
            parts.append(f"<table {_TABLE}><tr style='background-color:#eef2f6'><th>#</th><th>{escape(t('药名'))}</th>"
                         f"<th>{escape(t('规范名'))}</th><th>{escape(t('剂量'))}</th><th>{escape(t('用法'))}</th></tr>")
            for i, it in enumerate(p.items, 1):
                parts.append(f"<tr><td>{i}</td><td>{escape(it.name)}</td><td>{escape(it.canonical or it.name)}</td>"
                             f"<td>{escape(it.dose)}</td><td>{escape(it.usage)}</td></tr>")
            parts.append("</table>")
    if record.tongue:
        parts.append(f"<h3>{escape(t('舌象'))}</h3><table {_TABLE}>")
        for k, v in record.tongue.items():
            parts.append(f"<tr><td>{escape(str(k))}</td><td>{escape(str(v))}</td></tr>")
        parts.append("</table>")
    return "".join(parts)


class StructuredView(QTextBrowser):
    def __init__(self, controller: ReviewController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setObjectName("structuredView")
        self.setOpenLinks(False)
        controller.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        self.setHtml(structured_html(self.controller.state.to_record()))
