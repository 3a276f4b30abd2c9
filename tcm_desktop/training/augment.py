"""Mention replacement: team records retold with other annotated strings of the same category.

The text model is strong on entity strings it has seen in training and weak on
new ones (issue 15: unseen-string F1 about 66 against 95 for seen ones). When
every copy of a record carries the same strings, the model can memorise them
instead of learning the context that marks a category (``因…后``, ``放射至…``,
``查体：…``). Swapping some mentions for other strings annotated with the same
label elsewhere in the train pool keeps the context and the label and varies
the string (mention replacement, Dai & Adel 2020, "An Analysis of Simple Data
Augmentation for Named Entity Recognition").

Only the team train records are augmented, never dev or test, and the pool of
replacement strings comes from the train records alone.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence

# Categories whose strings are interchangeable in context. Doses, usages and
# times are left alone: their form is tied to the neighbouring herb or drug.
REPLACEABLE = frozenset({
    "SYMPTOM", "SIGN", "TCM_DISEASE", "SYNDROME", "WM_DISEASE", "TREATMENT", "FORMULA", "HERB",
    "PATENT_MEDICINE", "WM_DRUG", "EFFICACY", "THERAPY", "ACUPOINT", "BODY_PART", "CAUSE", "EXAM",
    "EXAM_RESULT",
})


def mention_pool(records: Iterable[dict]) -> dict[str, list[str]]:
    """Distinct annotated strings per replaceable label (one line each, sorted for reproducibility)."""
    pool: dict[str, set[str]] = {}
    for rec in records:
        for ent in rec["entities"]:
            s = rec["text"][ent["start"] : ent["end"]]
            if ent["label"] in REPLACEABLE and "\n" not in s and s.strip() == s and s:
                pool.setdefault(ent["label"], set()).add(s)
    return {label: sorted(strings) for label, strings in pool.items() if len(strings) > 1}


def replace_mentions(rec: dict, pool: dict[str, Sequence[str]], p: float, rng: random.Random) -> dict:
    """A copy of ``rec`` in which each replaceable mention is swapped with probability ``p``.

    Entity offsets follow the new text; the record itself is not changed. A
    record with ``unknown`` ranges (a public corpus's unannotated stretches) is
    returned as it is, since a replacement could cut such a range.
    """
    if rec.get("unknown"):
        return rec
    text = rec["text"]
    ents = sorted(rec["entities"], key=lambda e: e["start"])
    pieces: list[str] = []
    new_ents: list[dict] = []
    pos = 0
    delta = 0
    for ent in ents:
        s, e = ent["start"], ent["end"]
        pieces.append(text[pos:s])
        old = text[s:e]
        choices = pool.get(ent["label"], ())
        new = rng.choice(choices) if choices and rng.random() < p else old
        pieces.append(new)
        new_ents.append({**ent, "start": s + delta, "end": s + delta + len(new)})
        delta += len(new) - len(old)
        pos = e
    pieces.append(text[pos:])
    return {**rec, "text": "".join(pieces), "entities": new_ents}
