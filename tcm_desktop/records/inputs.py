"""The one input reader: ``.txt`` files, ``.jsonl`` files, standard input, folders.

The CLI's ``structure`` and ``import`` and the GUI's batch import all read
records through here, so they accept and refuse the same things:

* a ``.txt`` file is one record (external id = file stem);
* a ``.jsonl`` file has one ``{"id", "text", "patient"?, "entities"?}`` object a
  line; a bad line is named with its line number and the other lines still
  import;
* bytes that are not UTF-8 are named (with the byte offset), never guessed;
* a record longer than :data:`MAX_RECORD_CHARS` or a file larger than
  :data:`MAX_FILE_BYTES` is refused with a message, not cut.

Every record carries its ``source`` (the resolved file path, or ``stdin``)
so the database can tell two ``visit1`` records from two folders apart.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tcm_desktop.schema import ASSERTIONS, LABELS
from tcm_desktop.structured import FoundEntity

MAX_RECORD_CHARS = 200_000
MAX_FILE_BYTES = 256 * 1024 * 1024
STDIN = "stdin"


class InputError(ValueError):
    """An input (or one line of it) that cannot be read as a record; the message names it."""


@dataclass
class InputRecord:
    """One record read from an input."""

    external_id: str
    text: str
    source: str
    patient: str | None = None
    where: str = ""  # "file.jsonl:3" for messages
    entities: list[FoundEntity] | None = None  # only when the line carried entities (``import``)
    extra: dict[str, Any] = field(default_factory=dict)


def check_text(text: str, where: str) -> str:
    """The text when it can be a record, else InputError naming ``where``."""
    if not text.strip():
        raise InputError(f"{where}: empty text")
    if len(text) > MAX_RECORD_CHARS:
        raise InputError(f"{where}: record has {len(text):,} characters, more than the limit of {MAX_RECORD_CHARS:,}")
    return text


def decode(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not valid UTF-8 (byte {exc.start})") from None


def parse_entities(text: str, raw: Any, where: str) -> list[FoundEntity]:
    """Entities of an imported line, checked against its text: offsets, label, assertion, no overlaps."""
    if not isinstance(raw, list):
        raise InputError(f"{where}: 'entities' must be a list")
    out: list[FoundEntity] = []
    for i, e in enumerate(raw):
        if not isinstance(e, dict):
            raise InputError(f"{where}: entity {i} is not an object")
        s, end, label = e.get("start"), e.get("end"), e.get("label")
        if not (isinstance(s, int) and isinstance(end, int)) or isinstance(s, bool) or isinstance(end, bool):
            raise InputError(f"{where}: entity {i} needs integer 'start' and 'end'")
        if not 0 <= s < end <= len(text):
            raise InputError(f"{where}: entity {i} offsets {s}-{end} are outside the text (length {len(text)})")
        if label not in LABELS:
            raise InputError(f"{where}: entity {i} has unknown label {label!r}")
        assertion = e.get("assertion", "present")
        if assertion not in ASSERTIONS:
            raise InputError(f"{where}: entity {i} has unknown assertion {assertion!r}")
        if "text" in e and e["text"] != text[s:end]:
            raise InputError(f"{where}: entity {i} text {e['text']!r} does not match the text at {s}-{end}")
        score = e.get("score", 1.0)
        out.append(FoundEntity(s, end, label, text[s:end], assertion,
                               float(score) if isinstance(score, int | float) else 1.0))
    out.sort(key=lambda x: (x.start, x.end))
    for a, b in zip(out, out[1:]):
        if b.start < a.end:
            raise InputError(f"{where}: entities {a.start}-{a.end} and {b.start}-{b.end} overlap")
    return out


def records_from_text(name: str, text: str, *, as_jsonl: bool, source: str, stem: str,
                      problems: list[str], with_entities: bool = False) -> Iterator[InputRecord]:
    """Records of one decoded input; bad JSONL lines go to ``problems`` and the rest still come."""
    if not as_jsonl:
        yield InputRecord(stem, check_text(text, name), source, where=name)
        return
    found = False
    # split on "\n" only: str.splitlines() would also cut at U+2028, U+0085 or \x1e inside a JSON string
    for lineno, line in enumerate(text.split("\n"), 1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue
        found = True
        where = f"{name}:{lineno}"
        try:
            yield _record_from_line(line, where, source, f"{stem}-{lineno}", with_entities)
        except InputError as exc:
            problems.append(str(exc))
    if not found:
        problems.append(f"{name}: no records (empty file)")


def _record_from_line(line: str, where: str, source: str, default_id: str, with_entities: bool) -> InputRecord:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not JSON ({exc.msg})") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        raise InputError(f"{where}: expected an object with a string 'text'")
    text = check_text(obj["text"], where)
    rid = obj.get("id", default_id)
    if not isinstance(rid, str | int) or isinstance(rid, bool) or not str(rid).strip():
        raise InputError(f"{where}: 'id' must be a non-empty string or number")
    patient = obj.get("patient")
    if patient is not None and not isinstance(patient, str):
        raise InputError(f"{where}: 'patient' must be a string")
    entities = None
    if with_entities:
        entities = parse_entities(text, obj.get("entities", []), where)
    return InputRecord(str(rid), text, source, patient=(patient or "").strip() or None, where=where,
                       entities=entities)


def read_file(path: Path, problems: list[str], name: str | None = None,
              with_entities: bool = False) -> Iterator[InputRecord]:
    """Records of one ``.txt``/``.jsonl`` file; problems are collected, never raised."""
    name = name or str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise InputError(f"{name}: file is {size:,} bytes, more than the limit of {MAX_FILE_BYTES:,}")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
        yield from records_from_text(name, decode(data, name), as_jsonl=path.suffix.lower() == ".jsonl",
                                     source=str(path.resolve()), stem=path.stem, problems=problems,
                                     with_entities=with_entities)
    except FileNotFoundError:
        problems.append(f"{name}: cannot read (No such file or directory)")
    except OSError as exc:
        problems.append(f"{name}: cannot read ({exc.strerror or exc})")
    except InputError as exc:
        problems.append(str(exc))


def read_inputs(paths: Sequence[str], stdin_bytes: bytes | None, problems: list[str],
                with_entities: bool = False) -> Iterator[InputRecord]:
    """Records from the CLI's inputs (``-`` is standard input, read as one text record)."""
    for name in paths:
        if name == "-":
            try:
                text = decode(stdin_bytes or b"", STDIN)
                yield from records_from_text(STDIN, text, as_jsonl=with_entities, source=STDIN, stem=STDIN,
                                             problems=problems, with_entities=with_entities)
            except InputError as exc:
                problems.append(str(exc))
            continue
        yield from read_file(Path(name), problems, name=name, with_entities=with_entities)


def folder_files(folder: Path) -> list[Path]:
    """The ``.txt`` and ``.jsonl`` files of a folder, sorted (sub-folders are not read)."""
    return [p for p in sorted(Path(folder).iterdir()) if p.is_file() and p.suffix.lower() in (".txt", ".jsonl")]


def read_folder(folder: Path, problems: list[str]) -> Iterator[InputRecord]:
    """Records of every ``.txt``/``.jsonl`` file of a folder (the GUI batch import)."""
    for path in folder_files(folder):
        yield from read_file(path, problems, name=path.name)


def pairs(records: Iterable[InputRecord]) -> list[tuple[str, str]]:
    """``(external_id, text)`` for the structuring engine."""
    return [(r.external_id, r.text) for r in records]
