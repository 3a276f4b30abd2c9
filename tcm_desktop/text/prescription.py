"""Assemble the prescription table from the model's entities.

The model tags HERB, DOSAGE, USAGE, FORMULA … as loose spans; a doctor wants
rows: herb, dose, special decoction. The rules follow how prescriptions are
written (``柴胡10g，白芍15g，生龙骨30g(先煎)，砂仁6g后下。7剂，水煎服，日一剂。``):

- a dose belongs to the item right before it when only spaces, a colon, a
  parenthesised note or ``各`` stand between them; ``柴胡、白芍各10g`` gives
  both herbs 10g;
- a usage (先煎, 后下 …) belongs to an item when it follows the item or its
  dose directly, with or without brackets; the model's USAGE span is used, and
  a small list of decoction words is the fallback when the model missed it;
- herbs are rows when they carry a dose or stand in a 处方/方药 section (herbs
  named without dose in a 方解 are not rows); Western and patent drugs are rows
  only inside a prescription section; herbs marked history/absent
  (``停用番泻叶``) are not rows;
- the number of doses is the first unattached ``…剂`` dose after the first
  row; the overall usage is every unattached USAGE inside a prescription
  section or in the sentence that closes the herb list.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from tcm_desktop.structured import FoundEntity, Prescription, PrescriptionItem, Section
from tcm_desktop.text.sections import find_sections
from tcm_desktop.text.values import Normalizer, parse_dosage

ITEM_LABELS = frozenset({"HERB", "WM_DRUG", "PATENT_MEDICINE"})
DRUG_LABELS = frozenset({"WM_DRUG", "PATENT_MEDICINE"})
#: Sections whose formulas are talk about a formula, not the prescribed one.
NARRATIVE_SECTIONS = frozenset({
    "formula_analysis", "past_history", "present_illness", "syndrome_differentiation",
    "family_history", "personal_history", "differential_diagnosis", "chief_complaint",
})
DECOCTION_WORDS = (
    "打碎先煎", "研末冲服", "先煎", "后下", "包煎", "烊化", "另煎", "另炖", "冲服", "兑服",
    "先下", "后入", "布包", "单煎", "同煎", "泡服", "吞服",
)

_DOSE_GAP = re.compile(r"^[\s:：]*(?:[（(][^（()）\n]{0,6}[）)])?\s*(?:各|每次|每味|加至|加到|增至|减至|改为|用至)?\s*$")
_USAGE_GAP = re.compile(r"^[\s]*[（(\[]?[\s]*$")
_SHARED_GAP = re.compile(r"^\s*[、,，]?\s*$")
_FALLBACK_USAGE = re.compile(r"^\s*[（(\[]?\s*(" + "|".join(DECOCTION_WORDS) + ")")
_DOSES_UNIT = re.compile(r"[剂付帖]")
_TERMINATOR = re.compile(r"[。\n]")


@lru_cache(maxsize=1)
def _default_normalizer() -> Normalizer:
    return Normalizer.from_resources()


def _in(sections: Sequence[Section], pos: int) -> bool:
    return any(s.start <= pos < s.end for s in sections)


def _tail_end(text: str, ents: Sequence[FoundEntity], pos: int) -> int:
    """End of the sentence closing a herb list that ends at ``pos``.

    That is the rest of the list's sentence, plus the next sentence or line when
    it opens with a dose count or a usage (``…炙甘草6g。7剂，水煎服。``).
    """
    m = _TERMINATOR.search(text, pos)
    end = m.start() if m else len(text)
    if m is None:
        return end
    nxt = next((e for e in ents if e.start >= m.end()), None)
    if nxt is not None and (nxt.label == "USAGE" or (nxt.label == "DOSAGE" and _DOSES_UNIT.search(nxt.text))):
        if not text[m.end() : nxt.start].strip(" \t\n\u3000，,。；;、:："):
            m2 = _TERMINATOR.search(text, nxt.end)
            end = m2.start() if m2 else len(text)
    return end


def build_prescription(
    text: str,
    entities: Sequence[FoundEntity],
    normalizer: Normalizer | None = None,
    sections: Sequence[Section] | None = None,
) -> Prescription:
    """Group herbs/drugs with doses and usages; collect formulas, dose count and overall usage."""
    norm = normalizer or _default_normalizer()
    secs = list(find_sections(text) if sections is None else sections)
    rx = [s for s in secs if s.name == "prescription"]
    ents = sorted(entities, key=lambda e: (e.start, e.end))
    used: set[int] = set()  # indexes of DOSAGE/USAGE entities attached to a row

    rows: list[tuple[int, FoundEntity, int | None, list[int], bool]] = []  # idx, entity, dose idx, usage idxs, shared
    for i, e in enumerate(ents):
        if e.label not in ITEM_LABELS or e.assertion not in ("present", "possible"):
            continue
        in_rx = _in(rx, e.start)
        if e.label in DRUG_LABELS and not in_rx:
            continue
        dose_i: int | None = None
        shared = False
        for j in range(i + 1, len(ents)):
            d = ents[j]
            if d.label in ITEM_LABELS or d.label == "FORMULA":
                break
            if d.label != "DOSAGE":
                continue
            gap = text[e.end : d.start]
            if _DOSE_GAP.match(gap) and not _DOSES_UNIT.search(d.text):
                dose_i = j
                shared = "各" in gap
            break
        if dose_i is None and not in_rx:
            continue
        anchor = ents[dose_i].end if dose_i is not None else e.end
        usage_is: list[int] = []
        start_k = (dose_i if dose_i is not None else i) + 1
        for k in range(start_k, len(ents)):
            u = ents[k]
            if u.label != "USAGE" or not _USAGE_GAP.match(text[anchor : u.start]):
                break
            usage_is.append(k)
            anchor = u.end
        rows.append((i, e, dose_i, usage_is, shared))
        if dose_i is not None:
            used.add(dose_i)
        used.update(usage_is)

    # 柴胡、白芍各10g: a dose written with 各 serves the dose-less herbs listed before it.
    for r in range(len(rows) - 2, -1, -1):
        i, e, dose_i, usage_is, _ = rows[r]
        ni, ne, ndose, _, nshared = rows[r + 1]
        if dose_i is None and ndose is not None and nshared and _SHARED_GAP.match(text[e.end : ne.start]):
            rows[r] = (i, e, ndose, usage_is, True)

    items: list[PrescriptionItem] = []
    for _i, e, dose_i, usage_is, _ in rows:
        if e.label == "HERB":
            h = e.normalized if e.normalized.get("canonical") else norm.herb(e.text)
            canonical, processing = h["canonical"], h.get("processing", "")
        else:
            canonical, processing = e.text, ""
        item = PrescriptionItem(name=e.text, canonical=canonical, processing=processing, entity_start=e.start)
        if dose_i is not None:
            d = ents[dose_i]
            parsed = d.normalized if "amount" in d.normalized else parse_dosage(d.text)
            item.dose = d.text
            item.amount = parsed.get("amount")
            item.unit = parsed.get("unit", "")
        usages = [ents[k].text for k in usage_is]
        if not usages:
            after = ents[dose_i].end if dose_i is not None else e.end
            m = _FALLBACK_USAGE.match(text[after : after + 12])
            if m:
                usages = [m.group(1)]
        item.usage = "，".join(usages)
        items.append(item)

    # Region of the closing sentence: from the first row to the end of the sentence after the last.
    formulas_at = [e for e in ents if e.label == "FORMULA" and e.assertion == "present"]
    first = items[0].entity_start if items else (formulas_at[0].start if formulas_at else None)
    last_end = None
    if rows:
        i, e, dose_i, usage_is, _ = rows[-1]
        last_end = max([e.end] + [ents[k].end for k in ([dose_i] if dose_i is not None else []) + usage_is])
    elif formulas_at:
        last_end = formulas_at[-1].end
    tail_end = _tail_end(text, ents, last_end) if last_end is not None else -1

    def in_region(pos: int) -> bool:
        return _in(rx, pos) or (first is not None and first <= pos < tail_end)

    doses = ""
    usage: list[str] = []
    for k, e in enumerate(ents):
        if k in used:
            continue
        if e.label == "DOSAGE" and not doses and _DOSES_UNIT.search(e.text) and in_region(e.start):
            if first is None or e.start >= first:
                doses = e.text
        elif e.label == "USAGE" and in_region(e.start) and e.text not in usage:
            usage.append(e.text)

    formula: list[str] = []
    for e in formulas_at:
        owner = next((s for s in secs if s.start <= e.start < s.end), None)
        if owner is not None and owner.name in NARRATIVE_SECTIONS:
            continue
        if e.text not in formula:
            formula.append(e.text)
    return Prescription(formula=formula, items=items, doses=doses, usage=usage)
