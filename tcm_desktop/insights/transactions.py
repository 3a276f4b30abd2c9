"""A record as a transaction: the set of its present entities, by normalised name.

Why only ``present``: a negated finding (``无发热``), a past illness, a
relative's disease or a possibility is not something the patient has now;
counting it would make ``无发热`` look like evidence for a fever syndrome.
Why normalised names: ``炙甘草`` and ``甘草(炙)`` must be one item, and
``肝郁脾虚`` and ``肝郁脾虚证`` one syndrome, or the counts split.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Findings a doctor observes or hears: the antecedents of diagnostic rules.
FINDINGS: frozenset[str] = frozenset({"SYMPTOM", "SIGN", "TONGUE", "COATING", "PULSE"})


@dataclass(frozen=True)
class Kind:
    """Which categories may stand on each side of a rule (``both_ways``: also consequent → antecedent)."""

    name: str
    antecedent: frozenset[str]
    consequent: frozenset[str]
    both_ways: bool = False

    @property
    def labels(self) -> frozenset[str]:
        return self.antecedent | self.consequent


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("symptom-syndrome", FINDINGS, frozenset({"SYNDROME"})),
        Kind("syndrome-formula", frozenset({"SYNDROME"}), frozenset({"FORMULA", "TREATMENT"})),
        Kind("formula-herb", frozenset({"FORMULA"}), frozenset({"HERB"}), both_ways=True),
        Kind("symptom-disease", FINDINGS, frozenset({"TCM_DISEASE"})),
    )
}

#: An item: (category code, normalised name).
Item = tuple[str, str]


@dataclass(frozen=True)
class Transaction:
    """One record's present items; ``reviewed`` when the doctor has looked at every entity."""

    record_id: str
    items: frozenset[Item]
    reviewed: bool = False
    title: str = ""


def item_name(label: str, text: str, normalized: Mapping[str, Any] | None) -> str:
    """The standard name where normalisation gives one (herb canonical, syndrome standard), else the text."""
    norm = normalized or {}
    for key in ("canonical", "standard"):
        value = norm.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return text.strip()


def make_transaction(record_id: str, entities: Iterable[Mapping[str, Any]], title: str = "") -> Transaction:
    """Items from entity dicts (``label``, ``text``, ``assertion``, ``normalized``, ``status``).

    A record is reviewed when it has entities and none is still ``unreviewed``.
    """
    items: set[Item] = set()
    statuses: list[str] = []
    for e in entities:
        statuses.append(str(e.get("status", "unreviewed")))
        if e.get("assertion", "present") != "present":
            continue
        name = item_name(str(e["label"]), str(e["text"]), e.get("normalized"))
        if name:
            items.add((str(e["label"]), name))
    reviewed = bool(statuses) and all(s != "unreviewed" for s in statuses)
    return Transaction(record_id, frozenset(items), reviewed, title)


def from_structured(record: Any, title: str = "") -> Transaction:
    """A transaction from a :class:`~tcm_desktop.structured.StructuredRecord` (e.g. the record on screen)."""
    return make_transaction(record.id, (e.to_dict() for e in record.entities), title)
