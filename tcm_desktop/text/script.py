"""Traditional script in, simplified script for the rules and the model, same offsets out.

Clinics in Hong Kong, Taiwan, Macau and overseas write 乾薑、頭痛、脈弦細; the model,
the lexicons and the rule tables were built on simplified script. :func:`to_model_script`
converts a record with OpenCC (``hk2s`` and ``tw2s``, a maintained converter whose dictionaries
ship inside the wheel, nothing is downloaded) into a text of *exactly the same
length*, so character ``i`` of the converted text stands for character ``i`` of
what the doctor typed: every span found on the converted text is a span of the
original, and the entity text, highlights, exports and the PDF keep the doctor's
own characters.

OpenCC converts phrases (乾燥 → 干燥 but 乾坤 stays), and a phrase may in rare cases
change length. The text is converted clause by clause; a clause whose phrase
conversion keeps its length is taken as converted (the phrase-aware reading),
otherwise its characters are converted one by one (always one character for one).
Traditional punctuation (「」『』 and the small forms ﹐﹑﹔﹕) becomes the punctuation
the model learnt from (“”‘’，、；：). Mixed text (simplified with a few traditional
characters) is converted the same way; simplified characters pass unchanged.

Values the rules produce in simplified script (a herb's standard name, a
syndrome's standard name) are shown in the doctor's script: :meth:`ScriptView.display`
finds the value in the converted text and returns the doctor's characters at that
place, or converts it with OpenCC ``s2t`` when it does not occur there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import opencc

from tcm_desktop.structured import StructuredRecord

#: Traditional and vertical punctuation -> what the model and the rules expect.
PUNCTUATION = str.maketrans({
    "「": "“", "」": "”", "『": "‘", "』": "’",
    "﹁": "“", "﹂": "”", "﹃": "‘", "﹄": "’",
    "﹐": "，", "﹑": "、", "﹔": "；", "﹕": "：", "﹖": "？", "﹗": "！", "﹒": "。",
})

_CLAUSE = re.compile(r"[^，。；：、！？\n,;:!?“”‘’（）()]+|.", re.DOTALL)


class _ToSimplified:
    """OpenCC ``hk2s`` then ``tw2s``: Hong Kong (衞, 粧) and Taiwan (着) variants as well as the standard
    traditional forms, then the few TCM variant spellings OpenCC leaves (黃耆 -> 黄芪, 疎肝 -> 疏肝)."""

    def __init__(self) -> None:
        self.hk, self.tw = opencc.OpenCC("hk2s"), opencc.OpenCC("tw2s")

    def convert(self, text: str) -> str:
        out = self.tw.convert(self.hk.convert(text))
        for variant, standard in TCM_VARIANTS.items():
            if variant in out and len(variant) == len(standard):
                out = out.replace(variant, standard)
        return out


#: Same-length TCM spellings OpenCC does not convert (applied after it).
TCM_VARIANTS: dict[str, str] = {"黄耆": "黄芪", "疎": "疏", "甘艸": "甘草"}


@lru_cache(maxsize=1)
def _t2s() -> _ToSimplified:
    return _ToSimplified()


@lru_cache(maxsize=1)
def _s2t() -> opencc.OpenCC:
    return opencc.OpenCC("s2t")


@lru_cache(maxsize=8192)
def _char_t2s(ch: str) -> str:
    out = _t2s().convert(ch)
    return out if len(out) == 1 else ch


def _convert_clause(clause: str) -> str:
    out = _t2s().convert(clause)
    if len(out) == len(clause):
        return out
    return "".join(_char_t2s(c) for c in clause)


@lru_cache(maxsize=256)  # the engine asks twice per record: before the model and in ``finish``
def to_model_script(text: str) -> str:
    """``text`` in simplified script and model punctuation, with the same length."""
    text = text.translate(PUNCTUATION)
    whole = _t2s().convert(text)
    if whole == text:  # already simplified: the common case costs one pass
        return text
    if len(whole) == len(text):
        return whole
    return "".join(_convert_clause(m.group()) for m in _CLAUSE.finditer(text))


def is_traditional(text: str) -> bool:
    """Whether ``text`` is mainly written in traditional script.

    Counts the characters OpenCC would change in each direction: a traditional
    record has many characters ``t2s`` changes and (almost) none ``s2t`` changes.
    """
    return _mainly_traditional(text, to_model_script(text))


def _mainly_traditional(text: str, model: str) -> bool:
    n_trad = sum(a != b for a, b in zip(text, model) if a not in PUNCTUATION_SOURCE)
    if n_trad == 0:
        return False
    back = _s2t().convert(text)
    n_simp = sum(a != b for a, b in zip(text, back)) if len(back) == len(text) else 0
    return n_trad > n_simp


def model_text(text: str) -> str:
    """What the model and the rules read: a mainly traditional record in simplified script (same
    length); any other record exactly as written, so a simplified record's legitimate characters
    (为著, 乾坤…) are never "converted" and its analysis does not change."""
    model = to_model_script(text)
    return model if model != text and _mainly_traditional(text, model) else text


PUNCTUATION_SOURCE = frozenset(chr(k) for k in PUNCTUATION)


def to_traditional(text: str) -> str:
    """OpenCC ``s2t`` (for values that do not occur in the record, and for tests)."""
    return _s2t().convert(text)


@dataclass(frozen=True)
class ScriptView:
    """A record as the doctor wrote it and as the model and rules read it (same length)."""

    original: str
    model: str
    traditional: bool

    @classmethod
    def of(cls, text: str) -> ScriptView:
        model = model_text(text)
        return cls(text, model, model != text)

    def written(self, value: str) -> str:
        """A piece of the converted text (entity text, heading, dose) as the doctor wrote it."""
        at = self.model.find(value) if value else -1
        return self.original[at : at + len(value)] if at >= 0 else self.display(value)

    def display(self, value: str) -> str:
        """A standard name the rules produced (simplified) in the script of the record."""
        if not self.traditional or not value:
            return value
        at = self.model.find(value)
        if at >= 0:
            return self.original[at : at + len(value)]
        return to_traditional(value)

    def display_values(self, values: dict[str, Any]) -> dict[str, Any]:
        """``display`` applied to every string value of a normalised-value dict."""
        if not self.traditional:
            return values
        return {k: self.display(v) if isinstance(v, str) else v for k, v in values.items()}


def in_doctors_script(view: ScriptView, record: StructuredRecord) -> StructuredRecord:
    """``record`` (structured on ``view.model``) with the text and names of ``view.original``."""
    record.text = view.original
    for e in record.entities:
        e.text = view.original[e.start : e.end]
        e.normalized = view.display_values(e.normalized)
    for s in record.sections:
        s.title = view.written(s.title)
    rx = record.prescription
    rx.formula = [view.written(f) for f in rx.formula]
    rx.doses = view.written(rx.doses)
    rx.usage = [view.written(u) for u in rx.usage]
    for item in rx.items:
        at = item.entity_start
        item.name = view.original[at : at + len(item.name)] if at >= 0 else view.written(item.name)
        item.dose = view.written(item.dose)
        item.unit = view.written(item.unit)
        item.usage = "，".join(view.written(u) for u in item.usage.split("，")) if item.usage else ""
        item.canonical = view.display(item.canonical)
        item.processing = view.display(item.processing)
    return record


def to_traditional_same_length(text: str) -> str:
    """OpenCC ``s2t`` keeping every offset: phrase-aware per clause, character by character where a phrase changes length.

    Used to measure the engine on traditional versions of simplified test records
    (the gold spans keep their offsets).
    """
    whole = _s2t().convert(text)
    if len(whole) == len(text):
        return whole
    out = []
    for m in _CLAUSE.finditer(text):
        clause = m.group()
        conv = _s2t().convert(clause)
        if len(conv) != len(clause):
            conv = "".join(c2 if len(c2 := _s2t().convert(c)) == 1 else c for c in clause)
        out.append(conv)
    return "".join(out)
