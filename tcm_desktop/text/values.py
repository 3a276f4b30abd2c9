"""Map entity text to structured, comparable values.

Different doctors write the same thing differently: ``炙甘草`` and ``甘草(炙)``,
``肝郁脾虚`` and ``肝郁脾虚证``, ``十五克`` and ``15g``. Exports, statistics and
the prescription table need one form, so :class:`Normalizer` fills
``FoundEntity.normalized``:

- HERB -> ``{"canonical": "甘草", "processing": "炙"}`` from the team's alias
  table, else by stripping a known processing prefix (炙, 炒, 麸炒 …) when the
  rest is a known herb or at least two characters (``生姜``/``姜黄`` stay whole);
- SYNDROME -> ``{"standard": "肝郁脾虚证"}`` (synonym table; ``证`` added or
  ``型`` replaced when the standard list has that form);
- DOSAGE -> ``{"amount": 15.0, "unit": "g"}`` (Arabic or Chinese numerals,
  ranges give ``amount_max``);
- EXAM_RESULT -> ``{"value": 7.8, "unit": "mmol/L"}`` or, for a blood
  pressure, ``{"systolic": 150, "diastolic": 95, "unit": "mmHg"}``;
- TIME -> ``{"value": 3, "unit": "年"}`` for a simple duration.

Tables: ``resources/lexicon/HERB_ALIASES.tsv`` (``written<TAB>canonical<TAB>processing``)
and ``resources/lexicon/SYNDROME_SYNONYMS.tsv`` (``written<TAB>standard``), plus
the same maps carried as JSON by a model artifact. Missing files are not an
error: the rules still work without tables, only less completely.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from tcm_desktop.config import resources_dir
from tcm_desktop.structured import FoundEntity

#: Processing prefixes, longest first so 麸炒白术 strips 麸炒, not 麸.
PROCESSING_PREFIXES: tuple[str, ...] = tuple(sorted((
    "麸炒", "土炒", "炒焦", "蜜炙", "酒炙", "醋炙", "盐炙", "姜炙", "米炒", "砂烫", "清炒",
    "炙", "炒", "生", "制", "焦", "醋", "酒", "盐", "姜", "蜜", "煅", "法", "清", "炮", "熟", "烫", "煨", "鲜",
), key=len, reverse=True))

#: Herb names that merely start like a processed form.
HERB_PREFIX_EXCEPTIONS = frozenset({
    "生姜", "生姜皮", "生晒参", "生地", "生铁落", "姜黄", "片姜黄", "熟地", "熟地黄", "炮姜",
    "清风藤", "法罗海", "焦三仙", "焦四仙", "蜜环菌", "盐肤木",
})

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_NUM = "零〇一二两三四五六七八九十百千半"

UNIT_MAP: Mapping[str, str] = {
    "g": "g", "克": "g", "mg": "mg", "毫克": "mg", "μg": "μg", "ug": "μg", "mcg": "μg", "微克": "μg",
    "kg": "kg", "千克": "kg", "公斤": "kg", "ml": "ml", "毫升": "ml", "l": "L", "升": "L",
    "iu": "IU", "u": "U", "单位": "U", "片": "片", "粒": "粒", "袋": "袋", "丸": "丸", "剂": "剂",
    "付": "剂", "帖": "剂", "贴": "贴", "支": "支", "包": "包", "枚": "枚", "滴": "滴", "颗": "颗",
    "瓶": "瓶", "喷": "喷", "揿": "揿", "吸": "吸", "钱": "钱",
}
_UNITS = "|".join(sorted((re.escape(u) for u in UNIT_MAP), key=len, reverse=True))
_NUMBER = rf"(?:\d+(?:\.\d+)?|[{_CN_NUM}]+)"
_DOSAGE = re.compile(
    rf"^(?P<prefix>每次|每日|每天|每剂|共计|共|各|约|[x×X*＊])?\s*"
    rf"(?P<a>{_NUMBER})\s*(?:(?P<u1>{_UNITS})\s*)?"
    rf"(?:[-~～—至到]\s*(?P<b>{_NUMBER})\s*)?"
    rf"(?P<unit>{_UNITS})$",
    re.IGNORECASE,
)
_BP = re.compile(r"^(?P<s>\d{2,3})\s*/\s*(?P<d>\d{2,3})\s*(?P<unit>mmHg|毫米汞柱)?$", re.IGNORECASE)
_NUMERIC = re.compile(r"^(?P<cmp>[<>≤≥＜＞]=?)?\s*(?P<v>[-+]?\d+(?:\.\d+)?)\s*(?P<unit>[^\s，,；;。\u4e00-\u9fff]{0,14}|次/分|次/min|次/24h|个/HP)$")
_TIME = re.compile(
    rf"^(?:近|约)?(?P<v>\d+(?:\.\d+)?|[{_CN_NUM}]+)(?P<q1>余|多)?个?(?P<unit>年|月|周|星期|天|日|小时|分钟|h|d)"
    rf"(?P<q2>余|多|许|左右)?(?P<rel>前|后|来|以来|之前)?$"
)


def parse_number(s: str) -> float | None:
    """Arabic (``1.5``) or Chinese (``十五``, ``一百二十``, ``半``) numerals; None if neither."""
    s = s.strip()
    if not s:
        return None
    try:
        return float(s)
    except ValueError:
        pass
    if s == "半":
        return 0.5
    if any(ch not in _CN_DIGITS and ch not in _CN_UNITS for ch in s):
        return None
    if len(s) > 1 and not any(ch in _CN_UNITS for ch in s):  # 二〇二四: digit by digit
        return float("".join(str(_CN_DIGITS[ch]) for ch in s))
    total = 0
    current = 0
    for ch in s:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        else:
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
    return float(total + current)


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def _match_number(pattern: re.Pattern[str], text: str, group: str) -> tuple[re.Match[str] | None, float | None]:
    """``pattern`` matched on the stripped text and its ``group`` read as a number; (None, None) when either fails."""
    m = pattern.match(text.strip())
    v = parse_number(m.group(group)) if m else None
    return (m, v) if v is not None else (None, None)


def parse_dosage(text: str) -> dict[str, Any]:
    """``15克`` -> ``{"amount": 15.0, "unit": "g"}``; ``10-15g`` adds ``amount_max``; {} if not a dose."""
    m, a = _match_number(_DOSAGE, text, "a")
    if m is None or a is None:
        return {}
    unit = UNIT_MAP[m.group("unit").lower()] if m.group("unit").lower() in UNIT_MAP else m.group("unit")
    out: dict[str, Any] = {"amount": float(a), "unit": unit}
    if m.group("b"):
        b = parse_number(m.group("b"))
        if b is None:
            return {}
        out["amount_max"] = float(b)
    prefix = m.group("prefix") or ""
    if prefix in ("每次", "每日", "每天", "每剂"):
        out["per"] = prefix[1]
    return out


def parse_exam_result(text: str) -> dict[str, Any]:
    """A blood pressure or a single number with a unit; {} for qualitative results."""
    t = text.strip()
    m = _BP.match(t)
    if m:
        return {"systolic": int(m.group("s")), "diastolic": int(m.group("d")), "unit": "mmHg"}
    m = _NUMERIC.match(t)
    if m:
        out: dict[str, Any] = {"value": float(m.group("v")), "unit": m.group("unit")}
        if m.group("cmp"):
            out["comparator"] = m.group("cmp").replace("＜", "<").replace("＞", ">")
        return out
    return {}


def parse_time(text: str) -> dict[str, Any]:
    """A simple duration/onset: ``3年`` -> ``{"value": 3, "unit": "年"}``; dates give {}."""
    m, v = _match_number(_TIME, text, "v")
    if m is None or v is None:
        return {}
    unit = {"星期": "周", "日": "天", "h": "小时", "d": "天"}.get(m.group("unit"), m.group("unit"))
    if unit == "年" and v >= 1000:  # 2024年 is a date, not a duration
        return {}
    out: dict[str, Any] = {"value": _num(v), "unit": unit}
    if m.group("q1") or m.group("q2") in ("余", "多", "许", "左右"):
        out["approximate"] = True
    rel = m.group("rel")
    if rel in ("前", "之前"):
        out["relation"] = "ago"
    elif rel in ("来", "以来"):
        out["relation"] = "since"
    elif rel == "后":
        out["relation"] = "after"
    return out


def _read_tsv(path: Path, columns: int) -> list[list[str]]:
    rows: list[list[str]] = []
    if not path.is_file():
        return rows
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = [p.strip() for p in line.split("\t")]
        if not parts[0] or parts[0].lower() == "written":  # header row
            continue
        rows.append((parts + [""] * columns)[:columns])
    return rows


class Normalizer:
    """Fills ``FoundEntity.normalized`` from alias/synonym tables and parsing rules."""

    def __init__(
        self,
        herb_aliases: Mapping[str, tuple[str, str] | list[str]] | None = None,
        syndrome_synonyms: Mapping[str, str] | None = None,
        known_herbs: Iterable[str] = (),
    ) -> None:
        self.herb_aliases: dict[str, tuple[str, str]] = {}
        for written, value in (herb_aliases or {}).items():
            canonical, processing = (list(value) + ["", ""])[:2]
            self.herb_aliases[written] = (canonical or written, processing or "")
        self.syndrome_synonyms: dict[str, str] = dict(syndrome_synonyms or {})
        self.known_herbs: set[str] = set(known_herbs) | {c for c, _ in self.herb_aliases.values()}
        self.standard_syndromes: set[str] = set(self.syndrome_synonyms.values())

    def update(self, extra: Mapping[str, Any]) -> None:
        """Merge a JSON-style dict ``{"herb_aliases": {w: [c, p]}, "syndrome_synonyms": {w: s}}``."""
        for written, value in (extra.get("herb_aliases") or {}).items():
            canonical, processing = (list(value) + ["", ""])[:2] if not isinstance(value, str) else (value, "")
            self.herb_aliases[written] = (canonical or written, processing or "")
            self.known_herbs.add(canonical or written)
        for written, standard in (extra.get("syndrome_synonyms") or {}).items():
            self.syndrome_synonyms[written] = standard
            self.standard_syndromes.add(standard)

    @classmethod
    def from_resources(
        cls, extra: str | Path | Mapping[str, Any] | None = None, lexicon_dir: str | Path | None = None
    ) -> Normalizer:
        """The team's TSV tables (missing files are skipped) plus an optional JSON dict or file."""
        lexicon_dir = Path(lexicon_dir) if lexicon_dir is not None else resources_dir() / "lexicon"
        herbs = {w: (c, p) for w, c, p in _read_tsv(lexicon_dir / "HERB_ALIASES.tsv", 3)}
        syndromes = {w: s for w, s in _read_tsv(lexicon_dir / "SYNDROME_SYNONYMS.tsv", 2) if s}
        norm = cls(herbs, syndromes)
        if extra is not None:
            if not isinstance(extra, Mapping):
                path = Path(extra)
                extra = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
            norm.update(extra)
        return norm

    # --- per category -------------------------------------------------

    def herb(self, written: str) -> dict[str, str]:
        w = written.strip()
        # 甘草(炙) / 甘草（炙）: processing written after the name
        m = re.fullmatch(r"(.+?)[（(](.{1,2})[）)]", w)
        if m and m.group(2) in PROCESSING_PREFIXES:
            inner = self.herb(m.group(1))
            return {"canonical": inner["canonical"], "processing": m.group(2)}
        if w in self.herb_aliases:
            canonical, processing = self.herb_aliases[w]
            return {"canonical": canonical, "processing": processing}
        if w not in HERB_PREFIX_EXCEPTIONS:
            for prefix in PROCESSING_PREFIXES:
                rest = w[len(prefix):]
                if w.startswith(prefix) and rest and (rest in self.known_herbs or len(rest) >= 2):
                    canonical = self.herb_aliases[rest][0] if rest in self.herb_aliases else rest
                    return {"canonical": canonical, "processing": prefix}
        return {"canonical": w, "processing": ""}

    def syndrome(self, written: str) -> dict[str, Any]:
        w = written.strip()
        stem = w[:-1] if w.endswith(("证", "型")) else w
        for candidate in (w, stem, stem + "证", stem + "型"):
            if candidate in self.syndrome_synonyms:
                return self._with_zheng(self.syndrome_synonyms[candidate])
        for candidate in (w, stem + "证", stem):
            if candidate in self.standard_syndromes:
                return {"standard": candidate}
        return {"standard": w, "known": False}

    def _with_zheng(self, standard: str) -> dict[str, Any]:
        if not standard.endswith("证") and standard + "证" in self.standard_syndromes:
            return {"standard": standard + "证"}
        return {"standard": standard}

    def normalize_entity(self, e: FoundEntity) -> dict[str, Any]:
        """Compute the normalised value for ``e``, store it in ``e.normalized`` and return it."""
        if e.label == "HERB":
            value: dict[str, Any] = self.herb(e.text)
        elif e.label == "SYNDROME":
            value = self.syndrome(e.text)
        elif e.label == "DOSAGE":
            value = parse_dosage(e.text)
        elif e.label == "EXAM_RESULT":
            value = parse_exam_result(e.text)
        elif e.label == "TIME":
            value = parse_time(e.text)
        else:
            value = {}
        if value:
            e.normalized = {**e.normalized, **value}
        return value
