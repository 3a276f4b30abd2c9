"""The clinic dictionary: the doctor's own (term, label) pairs, applied without retraining.

Why: a retrained model is minutes to hours away, but the doctor who has just
added 「胃痞」 as TCM_DISEASE expects it to be found on the next record. The
dictionary does two things at once, both cheap and reversible:

1. its terms join the model's lexicon features (``Lexicon.with_extra``): the
   network already reads "a lexicon word of category X begins/ends here", so a
   new term shifts its decision without any weight changing;
2. an optional rule proposes the dictionary label for an exact match of a term
   (two characters or more) that overlaps no model entity, so a term is found
   even where the features alone do not tip the model.

The list lives in the user data folder (``clinic_dictionary.json``), editable in
Settings; :func:`tcm_desktop.records.service.terms_from_database` collects the terms the doctor added or
relabelled while reviewing. Qt-free and torch-free.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tcm_desktop.schema import LABELS
from tcm_desktop.structured import FoundEntity

FILE_NAME = "clinic_dictionary.json"
#: Shorter terms match inside too many unrelated words to be proposed on their own.
MIN_RULE_LEN = 2
#: Marks an entity the dictionary rule proposed (kept in ``normalized``).
SOURCE_KEY = "source"
SOURCE = "clinic_dictionary"


def default_path() -> Path:
    from tcm_desktop.config import user_dir

    return user_dir() / FILE_NAME


@dataclass
class ClinicDictionary:
    """``term -> label`` plus whether the exact-match rule is on."""

    terms: dict[str, str] = field(default_factory=dict)
    rule: bool = True

    # -- storage -----------------------------------------------------------------
    @classmethod
    def load(cls, path: Path | None = None) -> ClinicDictionary:
        """The saved dictionary, or an empty one when none was saved yet."""
        path = path or default_path()
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            terms = {str(t["term"]): str(t["label"]) for t in data.get("terms", [])}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"the clinic dictionary {path} cannot be read: {exc}") from exc
        return cls({t: lab for t, lab in terms.items() if lab in LABELS and t.strip()}, bool(data.get("rule", True)))

    def save(self, path: Path | None = None) -> Path:
        path = path or default_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"rule": self.rule, "terms": [{"term": t, "label": lab} for t, lab in sorted(self.terms.items())]}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)
        return path

    # -- editing -----------------------------------------------------------------
    def add(self, term: str, label: str) -> None:
        term = term.strip()
        if not term:
            raise ValueError("a dictionary term cannot be empty")
        if label not in LABELS:
            raise ValueError(f"unknown label {label!r}")
        self.terms[term] = label

    def remove(self, term: str) -> None:
        self.terms.pop(term, None)

    def merge(self, pairs: Iterable[tuple[str, str]]) -> int:
        """Add pairs whose term is not in the dictionary yet (the doctor's own edits win); return how many."""
        n = 0
        for term, label in pairs:
            if term.strip() and term not in self.terms and label in LABELS:
                self.terms[term] = label
                n += 1
        return n

    def pairs(self) -> list[tuple[str, str]]:
        return sorted(self.terms.items())

    # -- the rule ----------------------------------------------------------------
    def propose(self, text: str, entities: Sequence[FoundEntity]) -> list[FoundEntity]:
        """Dictionary entities for exact matches that overlap neither a model entity nor each other.

        Longest terms first, then left to right, so 「慢性胃炎」 wins over 「胃炎」.
        """
        if not self.rule or not self.terms:
            return []
        taken = [(e.start, e.end) for e in entities]
        out: list[FoundEntity] = []
        for term in sorted((t for t in self.terms if len(t) >= MIN_RULE_LEN), key=lambda t: (-len(t), t)):
            i = text.find(term)
            while i >= 0:
                j = i + len(term)
                if all(j <= s or e <= i for s, e in taken):
                    taken.append((i, j))
                    out.append(FoundEntity(i, j, self.terms[term], term, score=1.0, normalized={SOURCE_KEY: SOURCE}))
                i = text.find(term, i + 1)
        return sorted(out, key=lambda e: e.start)


def most_common_label(rows: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    by_term: dict[str, Counter] = {}
    for term, label in rows:
        if term and term.strip() and label in LABELS:
            by_term.setdefault(term, Counter())[label] += 1
    return sorted((t, c.most_common(1)[0][0]) for t, c in by_term.items())
