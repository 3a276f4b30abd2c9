"""Gold annotations: a record's text with the entities a person (or a corpus) marked.

Kept apart from :mod:`tcm_desktop.schema` (the vocabulary and span rules) because
only the corpus tools, the team records and the markup format use these types;
the engine reports :class:`tcm_desktop.structured.FoundEntity` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

from tcm_desktop.schema import CATEGORY_BY_CODE, LABELS, span_problems


class SchemaError(ValueError):
    """A record or entity that breaks the schema's rules."""


@dataclass
class Entity:
    """One span of a record, with Python-str offsets."""

    start: int
    end: int
    label: str
    assertion: str = "present"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> Entity:
        return cls(int(d["start"]), int(d["end"]), str(d["label"]), str(d.get("assertion", "present")))


@dataclass
class Record:
    """A text with its entities; ``annotated`` lists the codes the source annotates."""

    id: str
    text: str
    entities: list[Entity] = field(default_factory=list)
    annotated: list[str] = field(default_factory=lambda: list(LABELS))

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "text": self.text,
            "entities": [e.to_dict() for e in self.entities],
            "annotated": list(self.annotated),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> Record:
        return cls(
            id=str(d["id"]),
            text=str(d["text"]),
            entities=[Entity.from_dict(e) for e in d.get("entities", [])],
            annotated=list(d.get("annotated", LABELS)),
        )


def validate_record(record: Record) -> None:
    """Raise :class:`SchemaError` naming the record when a span rule is broken."""
    # ``annotated`` lists the categories a source annotates exhaustively; an
    # entity of another category is positive-only evidence and still valid.
    problems = span_problems(record.text, record.entities)
    bad = [c for c in record.annotated if c not in CATEGORY_BY_CODE]
    if bad:
        problems.append(f"unknown annotated codes {bad}")
    if problems:
        raise SchemaError(f"record {record.id}: " + "; ".join(problems))
