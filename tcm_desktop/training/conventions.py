"""The mechanical annotation conventions (guidelines S9), applied to the team record files.

The rules themselves live in :mod:`tcm_desktop.text.conventions` (the engine applies
them to the model's spans too); this module rewrites the record files to them.
Only span markup changes, never the text.

    python -m tcm_desktop.training.conventions [--check] [FILE_OR_DIR ...]

Without paths it rewrites the team train and test files and the agreement
study's second annotation; ``--check`` changes nothing and exits 1 if a file
breaks a convention (CI runs it through ``tests/test_conventions.py``).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from tcm_desktop.annotation import Entity
from tcm_desktop.text.conventions import Span, apply_conventions
from tcm_desktop.text.markup import parse_markup, render_markup
from tcm_desktop.training.team_records import ANNOTATED_DIR

AGREEMENT_FILE = ANNOTATED_DIR.parent / "agreement" / "test_sample_second.tcm.txt"
DEFAULT_PATHS = (ANNOTATED_DIR / "train", ANNOTATED_DIR / "test", AGREEMENT_FILE)


def apply(text: str, ents: Sequence[Entity]) -> tuple[list[Entity], Counter]:
    """The record's entities after the conventions, and how many spans each one changed."""
    spans, changes = apply_conventions(text, [Span(e.start, e.end, e.label, e.assertion) for e in ents])
    return [Entity(*s) for s in spans], changes


def rewrite_file(path: Path, write: bool = True) -> Counter:
    """Apply the conventions to every record of a ``*.tcm.txt`` file, keeping comments and layout."""
    lines = path.read_text(encoding="utf-8").split("\n")
    total: Counter = Counter()
    records: list[tuple[str, list[int]]] = []
    for i, raw in enumerate(lines):
        if raw.startswith("@@"):
            records.append((raw[2:].strip(), []))
        elif not raw.startswith("//") and records:
            records[-1][1].append(i)
    for rid, idx in records:
        body = "\n".join(lines[i] for i in idx)
        core = body.strip()
        text, ents = parse_markup(core, rid)
        new, changes = apply(text, ents)
        if not changes:
            continue
        total += changes
        new_lines = body.replace(core, render_markup(text, new), 1).split("\n")
        assert len(new_lines) == len(idx), f"{path}: record {rid} changed its line count"
        for i, line in zip(idx, new_lines):
            lines[i] = line
    if write and total:
        path.write_text("\n".join(lines), encoding="utf-8")
    return total


def _files(paths: Iterable[Path]) -> list[Path]:
    return [f for p in paths for f in (sorted(p.glob("*.tcm.txt")) if p.is_dir() else [p])]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("paths", nargs="*", type=Path, default=list(DEFAULT_PATHS))
    ap.add_argument("--check", action="store_true", help="change nothing; exit 1 if a file breaks a convention")
    args = ap.parse_args(argv)
    grand: Counter = Counter()
    for f in _files(args.paths):
        changes = rewrite_file(f, write=not args.check)
        if changes:
            grand += changes
            print(f"{f}: " + ", ".join(f"{k} {v}" for k, v in sorted(changes.items())))
    verb = "would change" if args.check else "changed"
    print(f"{verb}: " + (", ".join(f"{k} {v}" for k, v in sorted(grand.items())) or "nothing"))
    return 1 if args.check and grand else 0


if __name__ == "__main__":
    sys.exit(main())
