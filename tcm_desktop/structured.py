"""What the structuring engine returns: entities with context, sections, prescription.

Plain dataclasses with ``to_dict``/``from_dict`` so the GUI, the CLI, storage
and reports all share one shape. Offsets are Python-str indices into the
original text the doctor typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class FoundEntity:
    """An entity as the engine reports it (model span + rules' context)."""

    start: int
    end: int
    label: str
    text: str
    assertion: str = "present"
    score: float = 1.0
    normalized: dict[str, Any] = field(default_factory=dict)
    status: str = "unreviewed"  # unreviewed / accepted / corrected / added

    def to_dict(self) -> dict:
        return asdict(self)

    def reading(self, text: Callable[[str], str], canonical: Callable[[str], str],
                assertion: Callable[[str], str]) -> str:
        """How the finding reads in a report or view: its text, then its canonical name when that differs
        and its assertion unless plain present/absent, each formatted by the caller (PDF or Qt markup)."""
        s = text(self.text)
        name = self.normalized.get("canonical") if self.normalized else None
        if name and name != self.text:
            s += canonical(str(name))
        if self.assertion not in ("present", "absent"):
            s += assertion(self.assertion)
        return s

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FoundEntity:
        return cls(
            start=int(d["start"]), end=int(d["end"]), label=str(d["label"]), text=str(d["text"]),
            assertion=str(d.get("assertion", "present")), score=float(d.get("score", 1.0)),
            normalized=dict(d.get("normalized") or {}), status=str(d.get("status", "unreviewed")),
        )


@dataclass
class Section:
    """A record section such as 主诉 or 处方: its name and the text range of its body."""

    name: str  # canonical key, e.g. "chief_complaint"
    title: str  # the heading as written, e.g. "主诉"
    start: int
    end: int

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class PrescriptionItem:
    """One row of a prescription: a herb (or drug) with its dose and usage."""

    name: str
    canonical: str
    processing: str = ""
    dose: str = ""
    amount: float | None = None
    unit: str = ""
    usage: str = ""
    entity_start: int = -1

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Prescription:
    formula: list[str] = field(default_factory=list)
    items: list[PrescriptionItem] = field(default_factory=list)
    doses: str = ""  # number of doses, e.g. "7剂"
    usage: list[str] = field(default_factory=list)  # e.g. 水煎服, 日一剂

    def to_dict(self) -> dict:
        return {"formula": self.formula, "items": [i.to_dict() for i in self.items], "doses": self.doses, "usage": self.usage}


@dataclass
class StructuredRecord:
    """The engine's whole answer for one record."""

    id: str
    text: str
    entities: list[FoundEntity] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    prescription: Prescription = field(default_factory=Prescription)
    model_version: str = ""
    tongue: dict[str, Any] | None = None
    #: model suggestions the doctor deleted: a re-analysis does not bring them back (review_merge)
    deleted: list[FoundEntity] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {
            "id": self.id,
            "text": self.text,
            "entities": [e.to_dict() for e in self.entities],
            "sections": [s.to_dict() for s in self.sections],
            "prescription": self.prescription.to_dict(),
            "model_version": self.model_version,
        }
        if self.tongue is not None:
            d["tongue"] = self.tongue
        if self.deleted:
            d["deleted"] = [e.to_dict() for e in self.deleted]
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> StructuredRecord:
        p = d.get("prescription") or {}
        return cls(
            id=str(d["id"]), text=str(d["text"]),
            entities=[FoundEntity.from_dict(e) for e in d.get("entities", [])],
            sections=[Section(**s) for s in d.get("sections", [])],
            prescription=Prescription(
                formula=list(p.get("formula", [])),
                items=[PrescriptionItem(**i) for i in p.get("items", [])],
                doses=str(p.get("doses", "")), usage=list(p.get("usage", [])),
            ),
            model_version=str(d.get("model_version", "")),
            tongue=d.get("tongue"),
            deleted=[FoundEntity.from_dict(e) for e in d.get("deleted", [])],
        )
