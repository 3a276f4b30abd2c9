"""The 23-category entity schema: the one source of truth for labels.

Encodes ``shared/spec/entity-schema.md``: category codes with Chinese and
English names and highlight colours, the five assertion values and the span rules
(:func:`trim_span`, :func:`span_problems`). The annotation types that carry
gold spans are in :mod:`tcm_desktop.annotation`. Offsets are Python ``str`` indices (code
points), ``start`` inclusive, ``end`` exclusive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Category:
    """One entity category of the schema."""

    code: str
    zh: str
    en: str
    colour: str  # light background colour for an inline highlight, "#rrggbb"
    shortcut: str  # one key used by the review UI


CATEGORIES: tuple[Category, ...] = (
    Category("SYMPTOM", "症状", "symptom", "#ffd6d6", "1"),
    Category("SIGN", "体征", "physical sign", "#ffe3c2", "2"),
    Category("TONGUE", "舌质", "tongue body", "#ffc2e0", "3"),
    Category("COATING", "舌苔", "tongue coating", "#f3d1ff", "4"),
    Category("PULSE", "脉象", "pulse", "#d9ccff", "5"),
    Category("TCM_DISEASE", "中医病名", "TCM disease", "#c7dcff", "6"),
    Category("SYNDROME", "证候", "syndrome / pattern", "#b8f0ff", "7"),
    Category("WM_DISEASE", "西医诊断", "Western diagnosis", "#c2f5e4", "8"),
    Category("TREATMENT", "治则治法", "treatment principle", "#cdf5c0", "9"),
    Category("FORMULA", "方剂", "formula", "#eef7a8", "0"),
    Category("HERB", "中药", "herb", "#fff3a3", "h"),
    Category("DOSAGE", "剂量", "dose / amount", "#e8dcc4", "d"),
    Category("USAGE", "用法", "usage / decoction method", "#d8e6c8", "u"),
    Category("PATENT_MEDICINE", "中成药", "proprietary Chinese medicine", "#ffcfa8", "p"),
    Category("WM_DRUG", "西药", "Western drug", "#a8e0ff", "w"),
    Category("EFFICACY", "功效", "efficacy", "#e0f0b0", "e"),
    Category("THERAPY", "其他疗法", "other therapy", "#b0f0d0", "t"),
    Category("ACUPOINT", "穴位", "acupoint", "#f0c0c0", "a"),
    Category("BODY_PART", "部位", "body part", "#e0e0e0", "b"),
    Category("CAUSE", "病因诱因", "cause / trigger", "#ffb8b8", "c"),
    Category("TIME", "时间", "time / duration", "#d0d8f0", "m"),
    Category("EXAM", "检查检验", "examination / test", "#c0e8e8", "x"),
    Category("EXAM_RESULT", "检查结果", "examination result", "#e8d0f0", "r"),
)

CATEGORY_BY_CODE: Mapping[str, Category] = {c.code: c for c in CATEGORIES}
LABELS: tuple[str, ...] = tuple(c.code for c in CATEGORIES)

ASSERTIONS: tuple[str, ...] = ("present", "absent", "possible", "history", "family")
ASSERTION_ZH: Mapping[str, str] = {
    "present": "存在",
    "absent": "否定",
    "possible": "可能",
    "history": "既往",
    "family": "家族",
}

#: Characters a span may not start or end with (spec: whitespace or punctuation).
SPAN_EDGE_FORBIDDEN = frozenset(
    " \t\r\n\u3000，。；：、()（）,.;:!?！？\"'“”‘’《》<>【】[]「」『』﹁﹂﹃﹄﹐﹑﹔﹕﹖﹗…—-·/\\|"
)


class Span(Protocol):
    """Anything with offsets, a label and an assertion (gold entities, found entities)."""

    start: int
    end: int
    label: str
    assertion: str


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """The span without the whitespace or punctuation at its edges (empty when nothing else is left)."""
    while start < end and text[start] in SPAN_EDGE_FORBIDDEN:
        start += 1
    while end > start and text[end - 1] in SPAN_EDGE_FORBIDDEN:
        end -= 1
    return start, end


def span_problems(text: str, entities: Sequence[Span], annotated: Iterable[str] = LABELS) -> list[str]:
    """Return every way the spans break the span rules (empty when valid)."""
    problems: list[str] = []
    allowed = set(annotated)
    previous_end = -1
    for e in sorted(entities, key=lambda e: (e.start, e.end)):
        where = f"[{e.start}:{e.end}] {text[e.start:e.end]!r}"
        if e.label not in CATEGORY_BY_CODE:
            problems.append(f"{where}: unknown label {e.label}")
        elif e.label not in allowed:
            problems.append(f"{where}: label {e.label} not annotated by this source")
        if e.assertion not in ASSERTIONS:
            problems.append(f"{where}: unknown assertion {e.assertion}")
        if not (0 <= e.start < e.end <= len(text)):
            problems.append(f"{where}: span outside text of length {len(text)}")
            continue
        if e.start < previous_end:
            problems.append(f"{where}: overlaps the previous span")
        if text[e.start] in SPAN_EDGE_FORBIDDEN or text[e.end - 1] in SPAN_EDGE_FORBIDDEN:
            problems.append(f"{where}: starts or ends with whitespace or punctuation")
        previous_end = max(previous_end, e.end)
    return problems
