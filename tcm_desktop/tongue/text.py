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
BODY_ZH = {"light": "淡", "regular": "淡红", "dark": "偏暗/红"}
COATING_ZH = {"white": "白", "light_yellow": "淡黄", "yellow": "黄"}


def _value(result: dict, attr: str) -> tuple[str | None, float]:
    a = (result.get("attributes") or {}).get(attr) or {}
    return a.get("value"), float(a.get("score", 0.0))


def tongue_text(result: dict) -> str:
    """Insertable text such as ``舌淡红，边有齿痕，苔淡黄``; empty when the photo was refused."""
    if not result.get("ok"):
        return ""
    parts = []
    body, _ = _value(result, "body_colour")
    if body in BODY_TEXT:
        parts.append(BODY_TEXT[body])
    fis, _ = _value(result, "fissure")
    if fis in FISSURE_TEXT:
        parts.append(FISSURE_TEXT[fis])
    tooth, _ = _value(result, "tooth_marks")
    if tooth in TOOTH_TEXT:
        parts.append(TOOTH_TEXT[tooth])
    coat, _ = _value(result, "coating_colour")
    if coat in COATING_TEXT:
        parts.append(COATING_TEXT[coat])
    return "，".join(parts)


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
