"""Formula modifications (加减): what a prescription adds to and removes from a classical formula.

For each formula the prescription names, the standard composition variant
that shares the most herbs with the prescription (Jaccard) is the reference;
``removed`` are its herbs the doctor left out, ``added`` the prescribed herbs
that none of the named formulas contains (so 左金丸合化肝煎 is compared with
both at once). Herbs are compared by canonical name (``炙甘草`` = ``甘草``);
only HERB rows count (not a patent medicine written in the same block).

What is not claimed: nothing is "removed" when no herb of the formula is
written (``补阳还五汤加全蝎、蜈蚣`` lists only the additions), and nothing is
"added" when one of the named formulas is not in the table (its herbs would
look like additions).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tcm_desktop.structured import FoundEntity, Prescription
from tcm_desktop.text.compositions import FormulaBook, Variant, default_book


@dataclass(frozen=True)
class FormulaMatch:
    formula: str  # as written in the record
    variant: str  # the reference composition's id; "" when the formula is not in the table
    standard: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        return bool(self.variant)


@dataclass(frozen=True)
class Modifications:
    formulas: tuple[FormulaMatch, ...] = ()
    added: tuple[str, ...] = ()
    prescribed: tuple[str, ...] = field(default=())

    @property
    def unknown(self) -> tuple[str, ...]:
        return tuple(f.formula for f in self.formulas if not f.known)

    @property
    def any_known(self) -> bool:
        return any(f.known for f in self.formulas)

    def summary(self) -> str:
        """One line in Chinese, e.g. ``补阳还五汤：加 全蝎、蜈蚣；减 桃仁``; '' when nothing is known."""
        if not self.any_known or not self.prescribed:
            return ""
        removed = [h for f in self.formulas for h in f.removed]
        names = "合".join(f.formula for f in self.formulas if f.known)
        parts = []
        if self.added:
            parts.append("加 " + "、".join(self.added))
        if removed:
            parts.append("减 " + "、".join(dict.fromkeys(removed)))
        if self.unknown:
            parts.append("、".join(self.unknown) + "组成不在方剂表中，未列加味")
        return f"{names}：" + ("；".join(parts) if parts else "原方未加减")


def _best(variants: Sequence[Variant], prescribed: set[str]) -> Variant:
    def score(v: Variant) -> tuple[float, int]:
        herbs = set(v.herbs)
        return len(herbs & prescribed) / len(herbs | prescribed), -len(herbs)

    return max(variants, key=score)


def compare(prescription: Prescription, book: FormulaBook | None = None,
            entities: Sequence[FoundEntity] | None = None) -> Modifications:
    """The 加减 of a structured prescription against the standard compositions.

    With the record's ``entities``, rows whose entity is not a HERB (patent
    medicines, Western drugs) are left out of the comparison.
    """
    book = book if book is not None else default_book()
    label_at = {e.start: e.label for e in entities} if entities is not None else {}
    prescribed = list(dict.fromkeys(
        (it.canonical or it.name).strip() for it in prescription.items
        if it.name.strip() and label_at.get(it.entity_start, "HERB") == "HERB"
    ))
    have = set(prescribed)
    matches: list[FormulaMatch] = []
    standard_all: set[str] = set()
    for name in dict.fromkeys(prescription.formula):
        variants = book.variants(name)
        if not variants:
            matches.append(FormulaMatch(name, ""))
            continue
        v = _best(variants, have)
        standard_all |= set(v.herbs)
        # no herb of the formula written (only additions, or no herbs at all): nothing is called removed
        removed = tuple(h for h in v.herbs if h not in have) if set(v.herbs) & have else ()
        matches.append(FormulaMatch(name, v.id, v.herbs, removed))
    complete = all(m.known for m in matches)
    added = tuple(h for h in prescribed if h not in standard_all) if standard_all and complete else ()
    return Modifications(tuple(matches), added, tuple(prescribed))
