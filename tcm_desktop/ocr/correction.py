"""Lexicon-aware OCR correction: proposals, never silent edits.

Why: a recogniser that is unsure of one stroke-heavy character reads a
look-alike (胃脘 → 胃皖, 枳壳 → 积壳). Where a span of the OCR text is one or
two *low-confidence* characters away from a lexicon term (herbs, symptoms,
formulas, syndromes, ...) and each differing character is a visual
look-alike of the term's character (:mod:`tcm_desktop.ocr.confusables`),
a :class:`Correction` is proposed. Every substitution keeps the length of
the text, so offsets, character boxes and entity spans stay valid whether a
correction is applied or undone.

Guards against over-correction: the OCR span must not itself be a lexicon
word or a section heading (舌脉 is not 舌腺), the low-confidence character
must not already sit inside a lexicon word at least as long, and characters
read with high confidence are never touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tcm_desktop.ocr import confusables as conf_table
from tcm_desktop.ocr.reader import LOW_CONFIDENCE
from tcm_desktop.text.lexicon import Lexicon
from tcm_desktop.text.sections import TITLE_TO_KEY

#: categories whose terms are proposed; TCM_WORD (generic vocabulary) only guards against over-correction
TARGET_CATEGORIES = (
    "HERB", "FORMULA", "PATENT_MEDICINE", "SYMPTOM", "SIGN", "SYNDROME", "TCM_DISEASE", "WM_DISEASE",
    "WM_DRUG", "TONGUE", "COATING", "PULSE", "TREATMENT", "THERAPY", "ACUPOINT", "BODY_PART", "EXAM", "USAGE",
    "CAUSE",
)
CATEGORY_ZH = {
    "HERB": "中药", "FORMULA": "方剂", "PATENT_MEDICINE": "中成药", "SYMPTOM": "症状", "SIGN": "体征",
    "SYNDROME": "证候", "TCM_DISEASE": "中医病名", "WM_DISEASE": "西医病名", "WM_DRUG": "西药", "TONGUE": "舌质",
    "COATING": "舌苔", "PULSE": "脉象", "TREATMENT": "治法", "THERAPY": "疗法", "ACUPOINT": "穴位",
    "BODY_PART": "部位", "EXAM": "检查", "USAGE": "用法", "CAUSE": "病因",
}
MIN_TERM = 2
MAX_TERM = 8
MAX_CHANGES = 2


@dataclass
class Change:
    offset: int
    before: str
    after: str
    confidence: float
    similarity: float


@dataclass
class Correction:
    """One proposal: replace ``before`` by ``after`` at ``text[start:end]``."""

    start: int
    end: int
    before: str
    after: str
    category: str
    reason: str
    changes: list[Change] = field(default_factory=list)
    applied: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


class Corrector:
    """Finds proposals in OCR text given each character's confidence."""

    def __init__(self, lexicon: Lexicon, table: Mapping[str, Mapping[str, float]] | None = None,
                 threshold: float = LOW_CONFIDENCE) -> None:
        self.threshold = threshold
        self.table = conf_table.load() if table is None else table
        self.term_category: dict[str, str] = {}
        for cat in TARGET_CATEGORIES:
            for term in lexicon.terms(cat):
                if MIN_TERM <= len(term) <= MAX_TERM:
                    self.term_category.setdefault(term, cat)
        # real words are never "corrected": every lexicon word and the record's section headings (舌脉, 主诉 …)
        self.all_terms = {t for cat in lexicon.categories for t in lexicon.terms(cat) if len(t) >= MIN_TERM}
        self.all_terms |= {t for t in TITLE_TO_KEY if len(t) >= MIN_TERM}
        self.lengths = sorted({len(t) for t in self.term_category}, reverse=True)

    @classmethod
    def from_model(cls, model_dir: str | Path | None = None, threshold: float = LOW_CONFIDENCE) -> Corrector:
        from tcm_desktop.config import models_dir

        path = Path(model_dir) if model_dir else models_dir() / "ner"
        return cls(Lexicon.load(path / "lexicon.json"), threshold=threshold)

    def _covered(self, text: str, i: int, length: int) -> bool:
        """True when ``text[i]`` already lies inside a lexicon word of at least ``length`` characters."""
        for n in range(length, MAX_TERM + 1):
            for s in range(max(0, i - n + 1), min(i, len(text) - n) + 1):
                if text[s : s + n] in self.all_terms:
                    return True
        return False

    def propose(self, text: str, confidences: Sequence[float]) -> list[Correction]:
        low = {i for i, c in enumerate(confidences) if c < self.threshold and text[i] in self.table}
        candidates: list[tuple[tuple, Correction]] = []
        for i in sorted(low):
            for length in self.lengths:
                if self._covered(text, i, length):
                    continue
                for s in range(max(0, i - length + 1), min(i, len(text) - length) + 1):
                    span = text[s : s + length]
                    if "\n" in span or span in self.all_terms:
                        continue
                    others = [j for j in range(s, s + length) if j in low and j > i]
                    candidates.extend(self._fits(text, confidences, s, length, i, others))
        return _resolve(candidates)

    def _fits(self, text: str, confs: Sequence[float], s: int, length: int, i: int,
              others: Iterable[int]) -> list[tuple[tuple, Correction]]:
        out = []
        span = list(text[s : s + length])
        positions: list[tuple[int, ...]] = [(i,)] + [(i, j) for j in others][: MAX_CHANGES * 4]
        for pos in positions:
            for repl in _replacements([self.table[text[p]] for p in pos]):
                cand = span[:]
                for p, (ch, _sim) in zip(pos, repl):
                    cand[p - s] = ch
                term = "".join(cand)
                cat = self.term_category.get(term)
                if not cat:
                    continue
                changes = [Change(p, text[p], ch, round(float(confs[p]), 4), round(sim, 3)) for p, (ch, sim) in zip(pos, repl)]
                sim = min(c.similarity for c in changes)
                key = (-length, len(changes), -sim)
                out.append((key, Correction(s, s + length, text[s : s + length], term, cat, _reason(changes, term, cat), changes)))
        return out


def _replacements(options: list[Mapping[str, float]]) -> list[list[tuple[str, float]]]:
    combos: list[list[tuple[str, float]]] = [[]]
    for opts in options:
        combos = [c + [(ch, sim)] for c in combos for ch, sim in opts.items()]
    return combos


def _resolve(candidates: list[tuple[tuple, Correction]]) -> list[Correction]:
    """Longest term first, then fewest changes, then most similar glyphs; changes never conflict."""
    chosen: list[Correction] = []
    changed: dict[int, str] = {}
    for _key, c in sorted(candidates, key=lambda kc: kc[0]):
        if any(changed.get(ch.offset, ch.after) != ch.after for ch in c.changes):
            continue
        if any(ch.offset in changed for ch in c.changes):
            continue  # the same change already proposed by a longer term
        for ch in c.changes:
            changed[ch.offset] = ch.after
        chosen.append(c)
    return sorted(chosen, key=lambda c: c.start)


def _reason(changes: list[Change], term: str, category: str) -> str:
    parts = "、".join(f"「{c.before}」（识别置信度 {c.confidence:.2f}）形近「{c.after}」" for c in changes)
    return f"{parts}；「{term}」是词典中的{CATEGORY_ZH.get(category, category)}。"


def apply(text: str, corrections: Iterable[Correction]) -> str:
    """``text`` with every *applied* correction; undone ones keep the OCR reading (lengths never change)."""
    chars = list(text)
    for c in corrections:
        if c.applied:
            for ch in c.changes:
                chars[ch.offset] = ch.after
    return "".join(chars)


def undo(corrections: list[Correction], index: int) -> None:
    corrections[index].applied = False


def redo(corrections: list[Correction], index: int) -> None:
    corrections[index].applied = True
