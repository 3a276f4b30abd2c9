"""Inline annotation markup: ``[柴胡|HERB][10g|DOSAGE]``, ``无[发热|SYMPTOM:absent]``.

The team writes clinical records by hand in this form; this module turns it
into :class:`~tcm_desktop.annotation.Record` objects and back. A literal square
bracket in a record is written ``\\[`` or ``\\]``.

Record files (``*.tcm.txt``) hold many records, each starting with a header
line ``@@ <id>``; lines starting with ``//`` are comments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from tcm_desktop.annotation import Entity, Record, SchemaError
from tcm_desktop.schema import ASSERTIONS, CATEGORY_BY_CODE, span_problems

_TOKEN = re.compile(r"\\\[|\\\]|\[([^\[\]|\n]+)\|([A-Z_]+)(?::([a-z]+))?\]|[\[\]]")


def parse_markup(marked: str, record_id: str = "?") -> tuple[str, list[Entity]]:
    """Return the plain text and its entities; raise SchemaError on bad markup."""
    out: list[str] = []
    entities: list[Entity] = []
    pos = 0
    length = 0
    for m in _TOKEN.finditer(marked):
        chunk = marked[pos : m.start()]
        out.append(chunk)
        length += len(chunk)
        tok = m.group(0)
        if tok in ("\\[", "\\]"):
            out.append(tok[1])
            length += 1
        elif m.group(1) is None:
            line = marked.count("\n", 0, m.start()) + 1
            raise SchemaError(f"record {record_id} line {line}: stray bracket {tok!r} near {marked[max(0, m.start()-15):m.end()+15]!r}")
        else:
            span, label, assertion = m.group(1), m.group(2), m.group(3) or "present"
            if label not in CATEGORY_BY_CODE:
                raise SchemaError(f"record {record_id}: unknown label {label} in {tok!r}")
            if assertion not in ASSERTIONS:
                raise SchemaError(f"record {record_id}: unknown assertion {assertion} in {tok!r}")
            entities.append(Entity(length, length + len(span), label, assertion))
            out.append(span)
            length += len(span)
        pos = m.end()
    out.append(marked[pos:])
    text = "".join(out)
    problems = span_problems(text, entities)
    if problems:
        raise SchemaError(f"record {record_id}: " + "; ".join(problems))
    return text, entities


def render_markup(text: str, entities: Iterable[Entity]) -> str:
    """Write a text and its entities back in inline markup."""
    parts: list[str] = []
    pos = 0
    for e in sorted(entities, key=lambda e: e.start):
        parts.append(_escape(text[pos : e.start]))
        suffix = "" if e.assertion == "present" else f":{e.assertion}"
        parts.append(f"[{_escape(text[e.start:e.end])}|{e.label}{suffix}]")
        pos = e.end
    parts.append(_escape(text[pos:]))
    return "".join(parts)


def _escape(s: str) -> str:
    return s.replace("[", "\\[").replace("]", "\\]")


def parse_record_file(path: str | Path) -> list[Record]:
    """Read every ``@@ id`` record of a markup file."""
    records: list[Record] = []
    current_id: str | None = None
    lines: list[str] = []

    def flush() -> None:
        if current_id is None:
            return
        body = "\n".join(lines).strip()
        if not body:
            raise SchemaError(f"{path}: record {current_id} is empty")
        text, ents = parse_markup(body, current_id)
        records.append(Record(current_id, text, ents))

    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        if raw.startswith("@@"):
            flush()
            current_id = raw[2:].strip()
            lines = []
        elif raw.startswith("//"):
            continue
        elif current_id is not None:
            lines.append(raw)
    flush()
    ids = [r.id for r in records]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise SchemaError(f"{path}: duplicate record ids {sorted(dup)}")
    return records
