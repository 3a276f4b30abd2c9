"""Tongue results as record text, and agreement with what the record says.

Mapping of the model's classes to record wording (TonguExpert's classes are
coarser than clinical language, so the mapping is deliberately conservative):

- body colour: light -> 舌淡, regular -> 舌淡红, dark -> 舌暗红 (TonguExpert "dark"
  covers darker-than-normal bodies: red, crimson, dark/purple);
- coating colour: white -> 苔白, light_yellow -> 苔淡黄, yellow -> 苔黄 (coating
  thickness and greasiness are not assessed, so no 薄/厚/腻 is written);
- fissure: light -> 有裂纹, severe -> 裂纹明显; tooth marks: light -> 边有齿痕,
  severe -> 齿痕明显; "none" writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

BODY_TEXT = {"light": "舌淡", "regular": "舌淡红", "dark": "舌暗红"}
COATING_TEXT = {"white": "苔白", "light_yellow": "苔淡黄", "yellow": "苔黄"}
FISSURE_TEXT = {"light": "有裂纹", "severe": "裂纹明显"}
TOOTH_TEXT = {"light": "边有齿痕", "severe": "齿痕明显"}
#: attributes in the order a record writes them (body, its marks, then the coating)
TEXT_ORDER = (("body_colour", BODY_TEXT), ("fissure", FISSURE_TEXT), ("tooth_marks", TOOTH_TEXT), ("coating_colour", COATING_TEXT))
BODY_ZH = {"light": "淡", "regular": "淡红", "dark": "偏暗/红"}
COATING_ZH = {"white": "白", "light_yellow": "淡黄", "yellow": "黄"}


def _value(result: dict, attr: str) -> tuple[str | None, float]:
    a = (result.get("attributes") or {}).get(attr) or {}
    return a.get("value"), float(a.get("score", 0.0))


def tongue_text(result: dict) -> str:
    """Insertable text such as ``舌淡红，边有齿痕，苔淡黄``; empty when the photo was refused."""
    if not result.get("ok"):
        return ""
    parts = (wording.get(_value(result, attr)[0]) for attr, wording in TEXT_ORDER)
    return "，".join(p for p in parts if p)


def body_class_of(text: str) -> str | None:
    """The body-colour class a record phrase states, or None when it states none."""
    t = text.replace("舌质", "舌").replace("舌体", "舌")
    if re.search(r"[暗黯紫绛青]", t) or re.search(r"(?<!淡)红", t):
        return "dark"
    if "淡红" in t:
        return "regular"
    if re.search(r"淡白|淡胖|舌淡|^淡|质淡", t) or t.strip() in ("淡",):
        return "light"
    return None


def coating_class_of(text: str) -> str | None:
    if re.search(r"(?<![淡微])黄", text) and not re.search(r"淡黄|微黄|黄白", text):
        return "yellow"
    if re.search(r"淡黄|微黄|黄白|白黄", text):
        return "light_yellow"
    if "白" in text:
        return "white"
    return None


def _get(e: Any, key: str, default: Any = None) -> Any:
    return e.get(key, default) if isinstance(e, dict) else getattr(e, key, default)


def compare_with_record(result: dict, entities: Iterable[Any]) -> list[str]:
    """Messages where the photo's attributes disagree with the record's TONGUE/COATING entities.

    ``entities`` are :class:`tcm_desktop.structured.FoundEntity` (or their dicts). Negated
    mentions ("无齿痕") are compared as absence. Nothing is compared when the photo was refused.
    """
    if not result.get("ok"):
        return []
    out: list[str] = []
    body, bs = _value(result, "body_colour")
    coat, cs = _value(result, "coating_colour")
    tooth, ts = _value(result, "tooth_marks")
    fis, fs = _value(result, "fissure")
    for e in entities:
        label, text = _get(e, "label"), str(_get(e, "text", ""))
        negated = _get(e, "assertion", "present") in ("absent", "negated", "negative")
        if label == "TONGUE":
            rb = None if negated else body_class_of(text)
            if rb and body and rb != body:
                out.append(f"舌色不一致：记录「{text}」（{BODY_ZH[rb]}），照片判断为{BODY_ZH.get(body, body)}（置信度 {bs:.2f}）")
            if "齿痕" in text and tooth:
                has = tooth != "none"
                said = not negated and not re.search(r"无齿痕|未见齿痕", text)
                if has != said:
                    out.append(f"齿痕不一致：记录「{text}」，照片判断为{'有齿痕' if has else '无齿痕'}（置信度 {ts:.2f}）")
            if "裂" in text and fis:
                has = fis != "none"
                said = not negated and not re.search(r"无裂|未见裂", text)
                if has != said:
                    out.append(f"裂纹不一致：记录「{text}」，照片判断为{'有裂纹' if has else '无裂纹'}（置信度 {fs:.2f}）")
        elif label == "COATING" and not negated:
            rc = coating_class_of(text)
            if rc and coat and rc != coat:
                out.append(f"苔色不一致：记录「{text}」（{COATING_ZH[rc]}），照片判断为{COATING_ZH.get(coat, coat)}（置信度 {cs:.2f}）")
    return out


TONGUE_LABELS = ("TONGUE", "COATING")
ATTRIBUTE_ZH = {"body_colour": "舌色", "coating_colour": "苔色", "fissure": "裂纹", "tooth_marks": "齿痕"}
VALUE_ZH = {
    "body_colour": BODY_ZH,
    "coating_colour": COATING_ZH,
    "fissure": {"none": "无裂纹", "light": "有裂纹", "severe": "裂纹明显"},
    "tooth_marks": {"none": "无齿痕", "light": "边有齿痕", "severe": "齿痕明显"},
}
NOT_ASSESSED_ZH = {"thickness": "苔质厚薄", "greasiness": "腻苔", "moisture": "润燥"}
#: why the engine refused a photo (its ``reason`` code), said to the doctor
REFUSAL_ZH = {
    "no_tongue": "照片中未找到舌头。请拍摄伸出的舌面。",
    "too_small": "舌头在画面中太小：请靠近一些，让舌面占满更多画面。",
    "over_exposed": "照片过曝：舌面发白，请减弱光线或关闭闪光灯。",
    "under_exposed": "照片过暗：请增加光线。",
    "blurred": "照片模糊：请保持相机稳定并对焦舌面。",
    "grayscale": "黑白照片无法判断舌色和苔色，请使用彩色照片。",
    "unreadable": "无法读取该图片：文件不完整、已损坏或不是图片。",
    "failed": "分析失败：",
}
_NO_SEP_BEFORE = set("，、；：。！？,;:.!?\n（(「“ ")
_NO_SEP_AFTER = set("，、；。！？,;.!?\n）)」” ")
_SENTENCE_END = set("。！？.!?")
_HEADINGS = re.compile(r"(舌脉|舌象|舌诊|舌苔)[：:]")


def mentions_tongue(entities: Iterable[Any]) -> bool:
    """True when the record has a TONGUE or COATING entity (then the photo is compared, not suggested)."""
    return any(_get(e, "label") in TONGUE_LABELS for e in entities)


def with_record(result: dict, entities: Iterable[Any]) -> dict:
    """A copy of ``result`` with ``disagreements`` and ``suggested_text`` for this record, as the
    CLI's ``structure --image`` attaches them (a refused photo is returned unchanged)."""
    out = dict(result)
    if out.get("ok"):
        out["disagreements"] = compare_with_record(result, list(entities))
        out["suggested_text"] = tongue_text(result)
    return out


def insertion(text: str, cursor: int | None, snippet: str) -> tuple[int, str]:
    """Where and what to insert so ``snippet`` reads naturally in the record: ``(index, string)``.

    ``cursor`` (a Python index, None when unknown) is used when it lies inside or at the end of
    the text and is not 0 (a fresh editor's cursor sits at the start: that is not a choice).
    Otherwise the snippet goes right after a 舌脉/舌象/舌诊/舌苔 heading, else at the end of the
    record. A "，" separates it from neighbouring words; at the end of a finished sentence it
    starts a new line.
    """
    if not snippet:
        return (len(text) if cursor is None else max(0, min(cursor, len(text)))), ""
    if cursor is not None and 0 < cursor <= len(text):
        pos = cursor
    else:
        m = _HEADINGS.search(text)
        pos = m.end() if m else len(text)
    before = text[pos - 1] if pos > 0 else ""
    after = text[pos] if pos < len(text) else ""
    lead = ""
    if before and before in _SENTENCE_END and not after:
        lead = "\n"
    elif before and before not in _NO_SEP_BEFORE:
        lead = "，"
    trail = "，" if after and after not in _NO_SEP_AFTER else ""
    return pos, lead + snippet + trail


def report_fields(result: dict) -> dict[str, str]:
    """The result as short Chinese label -> text pairs for a printed report (PDF)."""
    out: dict[str, str] = {}
    if not result.get("ok"):
        out["照片质量"] = str(result.get("message") or "未能分析")
        return out
    for attr, name in ATTRIBUTE_ZH.items():
        value, score = _value(result, attr)
        if value is not None:
            out[name] = f"{VALUE_ZH.get(attr, {}).get(value, value)}（{value}，置信度 {score:.2f}）"
    na = [NOT_ASSESSED_ZH.get(a, a) for a in result.get("not_assessed") or []]
    if na:
        out["未评估"] = "、".join(na)
    if result.get("suggested_text"):
        out["建议描述"] = str(result["suggested_text"])
    if result.get("disagreements"):
        out["与病历不一致"] = "；".join(result["disagreements"])
    return out
