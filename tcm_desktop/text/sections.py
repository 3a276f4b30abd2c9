"""Find the sections of a clinical record (主诉, 现病史, 舌脉, 处方 …).

Sections let the rules know where an entity stands: a disease in 既往史 is
past history, in 家族史 it belongs to a relative, herbs in 处方 form the
prescription. A heading counts only at the start of a line (after optional
indentation and numbering such as ``1.``/``一、``) or right after ``。``, and
only when a colon (``：``/``:``) follows it, optionally after a parenthesised
note or a date (``二诊（2024-03-19）：``, ``复诊 2024/7/2：``). Headings in
running text (``患者主诉头痛``) are therefore not sections.

Template-style records (四诊 forms) have the headings 四诊 (as a form heading,
without a date or note it is not the fourth visit), 望诊, 闻诊, 问诊 and 切诊.
Every heading is also known in traditional script (主訴, 現病史, 西醫診斷 …, by
OpenCC ``s2t``), so a traditional record's sections are found as written.

A section's body runs from after the colon to the start of the next heading,
without surrounding whitespace; a heading that only groups the next ones
(``入院诊断：`` followed by ``中医诊断：``) gets an empty body.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from tcm_desktop.structured import Section
from tcm_desktop.text.script import to_traditional

#: canonical key -> headings as written. Keys beyond the brief's list
#: (marital_history, plan, differential_diagnosis, formula_analysis,
#: wm_prescription) exist so those paragraphs do not run on inside the
#: previous section (Western drugs after 西药： are not rows of the TCM 处方).
SECTION_TITLES: Mapping[str, tuple[str, ...]] = {
    "chief_complaint": ("主诉",),
    "present_illness": ("现病史", "刻下症", "刻下症状", "刻下", "刻诊", "症见"),
    "past_history": ("既往史", "既往病史", "既往", "过去史"),
    "personal_history": ("个人史", "个人生活史"),
    "marital_history": ("婚育史", "婚姻史", "生育史"),
    "menstrual_history": ("月经史", "月经及婚育史", "月经婚育史", "经带胎产史", "经产史"),
    "family_history": ("家族史",),
    "allergy": ("过敏史", "药物过敏史"),
    "physical_exam": (
        "体格检查", "查体", "体检", "专科检查", "专科情况", "妇科检查", "妇检",
        "中医望闻切诊", "望闻切诊", "望闻切", "望诊", "闻诊", "四诊摘要", "查",
    ),
    "four_examinations": ("四诊", "四诊合参", "四诊信息"),  # the form heading; 四诊（日期）is a visit
    "inquiry": ("问诊", "一般情况"),
    "tongue_pulse": ("切诊", "舌脉", "舌象", "舌诊", "脉象", "舌脉象", "舌苔脉象", "舌苔", "舌质"),
    "auxiliary_exam": ("辅助检查", "实验室检查", "理化检查", "影像学检查", "检查"),
    "diagnosis": ("诊断", "意见", "印象", "入院诊断", "初步诊断", "门诊诊断", "出院诊断", "临床诊断", "最后诊断"),
    "tcm_diagnosis": ("中医诊断", "中医病名"),
    "wm_diagnosis": ("西医诊断",),
    "differential_diagnosis": ("鉴别诊断",),
    "syndrome_differentiation": ("辨证", "辨证分析", "辨证依据", "证候分析", "病机分析", "病因病机", "证型", "证候"),
    "treatment_principle": ("治法", "治则", "治", "治疗原则", "治则治法", "治法治则", "立法"),
    "prescription": ("处方", "方药", "中药处方", "方剂", "中药", "拟方", "用药", "中成药", "中医治疗", "中医处理"),
    "wm_prescription": ("西药", "西药处方", "西医治疗", "西医处理"),
    "formula_analysis": ("方解",),
    "plan": ("诊疗计划", "治疗计划", "处理", "治疗"),
    "advice": ("医嘱", "调护", "嘱", "注意事项", "预防调护"),
    "follow_up": ("二诊", "三诊", "四诊", "五诊", "六诊", "七诊", "八诊", "九诊", "十诊", "复诊", "随访", "末诊"),
}

_FORM_HEADING = "四诊"  # four_examinations when bare, follow_up (the fourth visit) with a date or note

TITLE_TO_KEY: Mapping[str, str] = {
    **{to_traditional(t): k for k, titles in SECTION_TITLES.items() for t in titles},
    **{t: k for k, titles in SECTION_TITLES.items() for t in titles},
}
_VISIT_TITLES = frozenset({_FORM_HEADING, to_traditional(_FORM_HEADING)})

_TITLES = "|".join(sorted((re.escape(t) for t in TITLE_TO_KEY), key=len, reverse=True))
_HEADING = re.compile(
    r"(?:^|(?<=[\n。]))"  # line start or right after 。
    r"[ \t\u3000]*"  # indentation
    r"(?:(?:\d{1,2}|[一二三四五六七八九十]{1,3})[.．、]|[（(]\d{1,2}[）)])?[ \t\u3000]*"  # numbering
    rf"(?P<title>{_TITLES})"
    r"(?P<note>[（(][^（()）\n]{0,30}[）)]"  # a note: 二诊（2024-03-19）
    r"|[ \t\u3000]*\d[\d/\-.年月日号 ]{2,15})?"  # a date: 复诊 2024/7/2
    r"[ \t\u3000]*[：:]",
    re.MULTILINE,
)


def find_sections(text: str) -> list[Section]:
    """Every section heading of ``text`` in order, with the range of its body."""
    heads = list(_HEADING.finditer(text))
    sections: list[Section] = []
    for i, m in enumerate(heads):
        start = m.end()
        end = heads[i + 1].start("title") if i + 1 < len(heads) else len(text)
        # The next heading's numbering belongs to it, not to this body.
        if i + 1 < len(heads):
            end = heads[i + 1].start()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        title = m.group("title")
        name = TITLE_TO_KEY[title]
        if title in _VISIT_TITLES:
            name = "follow_up" if m.group("note") else "four_examinations"
        sections.append(Section(name=name, title=title, start=start, end=end))
    return sections


def section_at(sections: list[Section], pos: int) -> Section | None:
    """The section whose body contains ``pos`` (None outside every body)."""
    for s in sections:
        if s.start <= pos < s.end:
            return s
    return None
