"""Key:value findings of template-style (四诊 form) records: 食欲：不好，二便：调.

Clinics that fill in forms write ``食欲：不好，睡眠：差，二便：调，口渴：无``. The
annotation guidelines (``docs/annotation-guidelines.md``, "Template-style
records", rules T1-T3) make such a pair one SYMPTOM span, key and colon
included, when the value is a bare qualifier (可, 差, 不好, 调, 无 …); its
assertion is ``absent`` when the value negates (无, 没有, 否 …).

The shipped model was trained on prose and rarely marks these pairs, so
:func:`template_findings` proposes them for a fixed, documented list of keys
where the model found nothing (or only a piece of the pair). The rule was
written from the guidelines after the template test records
(``resources/annotated/test/template_t.tcm.txt``) and not tuned on them.
It reads the simplified text (:mod:`tcm_desktop.text.script` converts
traditional records first), so 食慾：不好 and 寒熱 are found as well.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tcm_desktop.structured import FoundEntity

#: The keys the rule knows (simplified script; longest first in the pattern).
TEMPLATE_KEYS: tuple[str, ...] = (
    "食欲", "胃纳", "纳食", "纳", "饮食", "睡眠", "夜寐", "眠", "寐", "二便", "大便", "小便",
    "寒热", "汗出", "出汗", "汗", "口渴", "口干", "口味", "精神", "情绪",
)

#: Values that negate the finding (rule T3).
NEGATING_VALUES: tuple[str, ...] = ("无", "没有", "否", "未", "不明显", "(-)", "（-）", "-")

#: Bare qualifiers (rule T1): meaningless without their key.
QUALIFIERS: tuple[str, ...] = NEGATING_VALUES + (
    "可", "好", "尚可", "一般", "正常", "调", "尚调", "不好", "差", "欠佳", "较差", "不佳",
    "少", "多", "减少", "增多", "减", "稀", "溏", "干", "黄", "频", "清", "有", "偶有",
    "安", "欠安", "尚安", "不安", "不振", "明显", "较多", "偏少", "偏多",
)

#: Tongue and pulse keys (rule T5): the value alone is the finding, the key stays out.
#: Each maps to the category and the characters such a value is made of.
VALUE_KEYS: dict[str, tuple[str, str]] = {
    "脉象": ("PULSE", "浮沉迟数滑涩弦紧细弱虚实洪濡缓结代促芤革牢散微伏动长短疾而无力有"),
    "脉": ("PULSE", "浮沉迟数滑涩弦紧细弱虚实洪濡缓结代促芤革牢散微伏动长短疾而无力有"),
    "舌质": ("TONGUE", "淡红暗紫绛青胖大瘦小嫩老边尖有齿痕裂纹瘀点斑偏"),
    "舌苔": ("COATING", "薄厚白黄灰黑腻滑燥干润少剥无腐微苔"),
}

#: Score given to a rule's span (below most model spans, so review lists it early).
RULE_SCORE = 0.9


def _alternatives(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


_PAIR = re.compile(
    r"(?<![\u4e00-\u9fff])"  # the key starts a clause (after punctuation, a heading colon, a line start)
    rf"(?P<key>{_alternatives(TEMPLATE_KEYS)})[ \t\u3000]*[：:][ \t\u3000]*"
    rf"(?P<value>{_alternatives(QUALIFIERS)})"
    r"(?=$|[，,。；;、\s）)]|明显|为主|尤甚)"
)


_VALUE = re.compile(
    r"(?<![\u4e00-\u9fff])"
    rf"(?P<key>{_alternatives(list(VALUE_KEYS))})[ \t\u3000]*[：:][ \t\u3000]*"
    r"(?P<value>[\u4e00-\u9fff]{1,6})(?=$|[，,。；;、\s）)])"
)
_QUALIFIER_AFTER = re.compile(
    rf"[ \t\u3000]*[：:][ \t\u3000]*(?P<value>{_alternatives(QUALIFIERS)})(?=$|[，,。；;、\s）)]|明显|为主|尤甚)"
)


def template_values(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, category)`` of tongue and pulse values after their keys (rule T5)."""
    out = []
    for m in _VALUE.finditer(text):
        label, chars = VALUE_KEYS[m.group("key")]
        if all(c in chars for c in m.group("value")):
            out.append((m.start("value"), m.end("value"), label))
    return out


def template_pairs(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, assertion)`` of every key:qualifier pair in ``text``."""
    out = []
    for m in _PAIR.finditer(text):
        value = m.group("value")
        out.append((m.start(), m.end(), "absent" if value in NEGATING_VALUES else "present"))
    return out


def template_assertion(span_text: str) -> str | None:
    """The assertion rule T3 gives a whole key:qualifier span (None when it is not one)."""
    m = _PAIR.fullmatch(span_text.strip())
    if m is None:
        return None
    return "absent" if m.group("value") in NEGATING_VALUES else "present"


_KEY_SET = frozenset(TEMPLATE_KEYS)


def _is_key(text: str, e: FoundEntity) -> bool:
    after = text[e.end : e.end + 2].lstrip(" \t\u3000")
    return text[e.start : e.end] in _KEY_SET and after[:1] in ("：", ":")


def template_findings(text: str, found: list[FoundEntity]) -> list[FoundEntity]:
    """SYMPTOM spans for template pairs the model missed.

    SYMPTOM spans that are only a key before its colon (``寒热``：怕冷) are
    dropped from ``found`` (rule T2); a SYMPTOM span followed by a colon and a
    qualifier (``口苦``：有) is widened to the pair (T1, T3); a tongue or pulse
    value after its key (脉象：``弦细``) is proposed as TONGUE/COATING/PULSE when
    no span found reaches outside it (T5). A pair is proposed when no span found overlaps it, or when the only
    overlapping spans are SYMPTOM pieces inside it (``食欲`` alone); those pieces
    are then dropped from ``found`` in favour of the pair.
    """
    added: list[FoundEntity] = []
    for e in [e for e in found if e.label == "SYMPTOM" and _is_key(text, e)]:
        found.remove(e)  # rule T2: a key followed by its colon is a label, not a finding
    for e in [e for e in found if e.label == "SYMPTOM"]:
        # rule T1 for a symptom used as a key: 口苦：有, 发热：无 -> one span with its qualifier
        m = _QUALIFIER_AFTER.match(text, e.end)
        if m and not any(o is not e and o.start < m.end() and e.start < o.end for o in found):
            e.end, e.text, e.score = m.end(), text[e.start : m.end()], min(e.score, RULE_SCORE)
            e.assertion = "absent" if m.group("value") in NEGATING_VALUES else "present"
    for start, end, label in template_values(text):
        overlapping = [e for e in found if e.start < end and start < e.end]
        if any(e.start < start or e.end > end or (e.start, e.end, e.label) == (start, end, label) for e in overlapping):
            continue
        for e in overlapping:
            found.remove(e)
        added.append(FoundEntity(start, end, label, text[start:end], score=RULE_SCORE))
    for start, end, assertion in template_pairs(text):
        overlapping = [e for e in found if e.start < end and start < e.end]
        if any(e.label != "SYMPTOM" or e.start < start or e.end > end for e in overlapping):
            continue
        for e in overlapping:
            found.remove(e)
        added.append(FoundEntity(start, end, "SYMPTOM", text[start:end], assertion=assertion, score=RULE_SCORE))
    return added


def apply_template_assertions(entities: Sequence[FoundEntity]) -> None:
    """Rule T3 over the cue rules for whole key:qualifier spans (口渴：无 is absent)."""
    for e in entities:
        if e.label == "SYMPTOM" and (a := template_assertion(e.text)) is not None:
            e.assertion = a


def with_template_findings(text: str, entities: list[FoundEntity]) -> list[FoundEntity]:
    """``entities`` with the template rule applied (see :func:`template_findings`), in text order."""
    return sorted(entities + template_findings(text, entities), key=lambda e: (e.start, e.end))
