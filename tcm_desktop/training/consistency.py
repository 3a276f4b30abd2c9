"""Annotation consistency of the team records: every string annotated differently in different places.

Three kinds of conflict (docs/annotation-guidelines.md, "Weak categories (sharpened)"):

- ``label``: the same surface string carries different labels, or the same label
  with different assertions after the same cue (the two characters in front of
  the span inside its clause, e.g. ``既往[高血压]`` history here, present there).
  Many label conflicts are explained by context (活血化瘀 TREATMENT under 治法,
  EFFICACY under 方解); ``same_head`` counts those whose labels differ under one
  section heading, which context does not explain;
- ``unannotated``: a string annotated in one place occurs in plain text elsewhere,
  outside any span (strings of one character, bare numbers, ASCII strings shorter
  than 3 letters and ASCII or numeric hits glued to a letter, digit, ``.``, ``/``,
  ``%`` or ``^`` are skipped);
- ``boundary``: an annotated string that elsewhere sits inside a longer span, or
  under a shifted span, of the same label (weak categories unless ``--boundaries-all``).

    python -m tcm_desktop.training.consistency [--pools train test clinic_b] [--json OUT] [--category X]
        [--kind label|unannotated|boundary] [--same-heading] [--counts] [--rev GIT_REV]
    python -m tcm_desktop.training.consistency diff [--base REV] [--pools ...]

``--rev`` reads the record files as they were at a git revision (counts before a change).
``diff`` counts the spans edited since a git revision per category (relabel, assertion,
boundary, added, removed); records are matched by file and id, and records whose text
changed since are skipped and counted.
Torch-free: it only reads the markup files.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tcm_desktop.annotation import Entity, Record
from tcm_desktop.schema import LABELS
from tcm_desktop.text.markup import parse_markup, parse_record_file

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
POOL_DIRS = {
    "train": RESOURCES / "annotated" / "train",
    "test": RESOURCES / "annotated" / "test",
    "clinic_b": RESOURCES / "clinic_b",
}
WEAK = (
    "SIGN",
    "SYMPTOM",
    "EXAM_RESULT",
    "BODY_PART",
    "CAUSE",
    "EFFICACY",
    "TREATMENT",
    "THERAPY",
    "PATENT_MEDICINE",
    "FORMULA",
    "USAGE",
)
KINDS = ("label", "unannotated", "boundary")
COLUMNS = KINDS + ("same_head",)
_HEADING = re.compile(r"(?m)^[ \t\u3000]*(?:\d+[.、．][ \t]*)?([^\s：:，。；、]{1,8})[：:]|【([^】]{1,8})】")
_CLAUSE_BREAK = re.compile(r"[，,。；;：:、\n（）()\s]")
_NUMERIC = re.compile(r"^[\d.,，/×x\-~～]+$")
_ASCII = re.compile(r"^[\x00-\x7f]+$")
_ALNUM = re.compile(r"[A-Za-z0-9]")
_GLUE = re.compile(r"[A-Za-z0-9.%/^]")
CONTEXT = 12
MAX_SHOWN = 6


@dataclass
class Occurrence:
    """One place a surface string occurs: a span (label set) or plain text (label None)."""

    record: str
    start: int
    end: int
    label: str | None
    assertion: str | None
    context: str


@dataclass
class Conflict:
    """One surface string annotated inconsistently, with the places that disagree."""

    kind: str
    surface: str
    categories: list[str]
    detail: str
    occurrences: list[Occurrence] = field(default_factory=list)
    same_heading: str | None = None  # label conflicts only: a heading under which the labels differ

    def to_dict(self) -> dict:
        return asdict(self)


def load_records(pools: Sequence[str], dirs: dict[str, Path] | None = None, rev: str | None = None) -> list[Record]:
    """Every record of the pools, ids ``pool/file/id`` so a conflict says where to edit.

    With ``rev`` the files are read as they were at that git revision (to count conflicts before a change)."""
    dirs = POOL_DIRS if dirs is None else dirs
    out: list[Record] = []
    for pool in pools:
        paths = sorted(dirs[pool].glob("*.tcm.txt")) if rev is None else _files_at(rev, dirs[pool])
        for path in paths:
            stem = path.name[: -len(".tcm.txt")]
            recs = parse_record_file(path) if rev is None else list(_records_at(rev, path, RESOURCES.parent).values())
            for r in recs:
                r.id = f"{pool}/{stem}/{r.id}"
                out.append(r)
    return out


def _files_at(rev: str, folder: Path) -> list[Path]:
    repo = RESOURCES.parent
    rel = folder.resolve().relative_to(repo.resolve()).as_posix()
    listed = subprocess.run(
        ["git", "-C", str(repo), "ls-tree", "--name-only", rev, rel + "/"], capture_output=True, text=True
    )
    if listed.returncode != 0:
        raise SystemExit(f"git cannot list {rel} at {rev}: {listed.stderr.strip()}")
    return sorted(repo / name for name in listed.stdout.split() if name.endswith(".tcm.txt"))


def _context(text: str, start: int, end: int) -> str:
    left = text[max(0, start - CONTEXT) : start].replace("\n", "⏎")
    right = text[end : end + CONTEXT].replace("\n", "⏎")
    return f"{left}«{text[start:end]}»{right}"


def _cue(text: str, start: int) -> str:
    """The two characters before a span inside its clause (empty after a comma or list mark)."""
    left = text[max(0, start - 6) : start]
    parts = _CLAUSE_BREAK.split(left)
    return parts[-1][-2:] if parts else ""


def heading(text: str, pos: int) -> str:
    """The last section heading before ``pos`` (``治法``, ``方解``, ``查体``, ``P``); empty when none.

    A label that differs under one heading is rarely explained by context, unlike 活血化瘀 as
    TREATMENT under 治法 and EFFICACY under 方解."""
    last = ""
    for m in _HEADING.finditer(text, 0, pos):
        last = m.group(1) or m.group(2)
    return last


def searchable(surface: str) -> bool:
    """Whether plain-text hits of a string are worth listing (see the module docstring)."""
    if len(surface) < 2 or _NUMERIC.match(surface):
        return False
    return not (_ASCII.match(surface) and len(surface) < 3)


def _glued(text: str, start: int, end: int, surface: str) -> bool:
    """An ASCII or digit-edged hit inside a longer token (``P`` in ``BP``, ``10`` in ``100``, ``0cm`` in ``4.0cm``,
    ``0.4g`` in ``0.4g/L``)."""
    if _ALNUM.match(surface[0]) and start > 0 and _GLUE.match(text[start - 1]):
        return True
    return bool(_ALNUM.match(surface[-1]) and end < len(text) and _GLUE.match(text[end]))


def find_conflicts(records: Iterable[Record], boundary_labels: Iterable[str] | None = WEAK) -> list[Conflict]:
    """All three kinds of conflict in a set of records."""
    records = list(records)
    spans: dict[str, list[tuple[Record, Entity]]] = defaultdict(list)
    for r in records:
        for e in r.entities:
            spans[r.text[e.start : e.end]].append((r, e))
    conflicts: list[Conflict] = []
    conflicts += _label_conflicts(spans)
    conflicts += _text_conflicts(records, spans, set(boundary_labels) if boundary_labels is not None else set(LABELS))
    return conflicts


def _occ(r: Record, start: int, end: int, label: str | None, assertion: str | None) -> Occurrence:
    return Occurrence(r.id, start, end, label, assertion, _context(r.text, start, end))


def _label_conflicts(spans: dict[str, list[tuple[Record, Entity]]]) -> list[Conflict]:
    out: list[Conflict] = []
    for surface, places in sorted(spans.items()):
        labels = Counter(e.label for _, e in places)
        if len(labels) > 1:
            detail = ", ".join(f"{lab}×{n}" for lab, n in labels.most_common())
            same = _same_heading(places)
            if same:
                detail += f"; under {same[0]!r}: " + ", ".join(f"{lab}×{n}" for lab, n in same[1].most_common())
            out.append(
                Conflict(
                    "label",
                    surface,
                    sorted(labels),
                    detail,
                    _spread(places, key=lambda p: p[1].label),
                    same[0] if same else None,
                )
            )
            continue
        by_cue: dict[str, list[tuple[Record, Entity]]] = defaultdict(list)
        for r, e in places:
            cue = _cue(r.text, e.start)
            if cue:
                by_cue[cue].append((r, e))
        for cue, group in sorted(by_cue.items()):
            asserts = Counter(e.assertion for _, e in group)
            if len(asserts) > 1:
                detail = f"after {cue!r}: " + ", ".join(f"{a}×{n}" for a, n in asserts.most_common())
                out.append(
                    Conflict("label", surface, sorted(labels), detail, _spread(group, key=lambda p: p[1].assertion))
                )
    return out


def _same_heading(places: list[tuple[Record, Entity]]) -> tuple[str, Counter] | None:
    """The heading with the most places among those under which the labels differ, if any
    (places before any heading say nothing about their context and are left out)."""
    by: dict[str, Counter] = defaultdict(Counter)
    for r, e in places:
        h = heading(r.text, e.start)
        if h:
            by[h][e.label] += 1
    mixed = [(h, c) for h, c in by.items() if len(c) > 1]
    return max(mixed, key=lambda hc: (sum(hc[1].values()), hc[0])) if mixed else None


def _spread(places: list[tuple[Record, Entity]], key) -> list[Occurrence]:
    """A few places of every variant, so each side of the disagreement is shown."""
    by: dict[str, list[tuple[Record, Entity]]] = defaultdict(list)
    for p in places:
        by[key(p)].append(p)
    shown: list[Occurrence] = []
    for _, group in sorted(by.items(), key=lambda kv: -len(kv[1])):
        for r, e in group[: max(1, MAX_SHOWN // len(by))]:
            shown.append(_occ(r, e.start, e.end, e.label, e.assertion))
    return shown


def _text_conflicts(
    records: list[Record], spans: dict[str, list[tuple[Record, Entity]]], boundary_labels: set[str]
) -> list[Conflict]:
    """Plain-text hits (``unannotated``) and hits under a longer or shifted span of the same label."""
    by_bigram: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for ri, r in enumerate(records):
        for i in range(len(r.text) - 1):
            by_bigram[r.text[i : i + 2]].append((ri, i))
    covers: list[list[Entity | None]] = []
    for r in records:
        cov: list[Entity | None] = [None] * len(r.text)
        for e in r.entities:
            for i in range(e.start, e.end):
                cov[i] = e
        covers.append(cov)
    out: list[Conflict] = []
    for surface, places in sorted(spans.items()):
        if not searchable(surface):
            continue
        labels = Counter(e.label for _, e in places)
        main = labels.most_common(1)[0][0]
        plain: list[Occurrence] = []
        inner: list[Occurrence] = []
        for ri, i in by_bigram.get(surface[:2], ()):
            r = records[ri]
            end = i + len(surface)
            if not r.text.startswith(surface, i) or _glued(r.text, i, end, surface):
                continue
            hit = {id(e): e for e in covers[ri][i:end] if e is not None}
            if not hit:
                plain.append(_occ(r, i, end, None, None))
                continue
            for e in hit.values():
                # the other span reaches past this hit (a longer or shifted span); a shorter span
                # inside the hit is the same disagreement seen from the other string, listed there
                beyond = e.start < i or e.end > end
                if beyond and e.label in labels and e.label in boundary_labels:
                    inner.append(_occ(r, e.start, e.end, e.label, e.assertion))
        if plain:
            detail = f"{len(places)} annotated ({main}), {len(plain)} in plain text"
            shown = [_occ(r, e.start, e.end, e.label, e.assertion) for r, e in places[:2]] + plain[:MAX_SHOWN]
            out.append(Conflict("unannotated", surface, sorted(labels), detail, shown))
        if inner:
            uniq = {(o.record, o.start, o.end): o for o in inner}
            longer = sorted({o.context.split("«")[1].split("»")[0] for o in uniq.values()})
            detail = f"{len(places)} exact, {len(uniq)} inside/shifted: " + "、".join(longer[:5])
            shown = [_occ(r, e.start, e.end, e.label, e.assertion) for r, e in places[:2]] + list(uniq.values())[
                :MAX_SHOWN
            ]
            cats = sorted({o.label for o in uniq.values() if o.label})
            out.append(Conflict("boundary", surface, cats, detail, shown))
    return out


def counts(conflicts: Iterable[Conflict]) -> dict[str, dict[str, int]]:
    """Conflicts per category and kind (a SIGN/SYMPTOM label conflict counts for both)."""
    table: dict[str, Counter] = defaultdict(Counter)
    for c in conflicts:
        for cat in c.categories:
            table[cat][c.kind] += 1
            table[cat]["same_head"] += c.same_heading is not None
    return {cat: {k: table[cat].get(k, 0) for k in COLUMNS} for cat in LABELS if cat in table}


def select(conflicts: Iterable[Conflict], category: str | None) -> list[Conflict]:
    return [c for c in conflicts if category is None or category in c.categories]


def report(conflicts: list[Conflict], out=sys.stdout, details: bool = True) -> None:
    """The counts per category and kind, then (with ``details``) every conflict with its places."""
    table = counts(conflicts)
    print(f"{'category':16} " + " ".join(f"{k:>11}" for k in COLUMNS), file=out)
    for cat, row in table.items():
        print(f"{cat:16} " + " ".join(f"{row[k]:>11}" for k in COLUMNS), file=out)
    total = Counter(c.kind for c in conflicts)
    total["same_head"] = sum(c.same_heading is not None for c in conflicts)
    print("total            " + " ".join(f"{total.get(k, 0):>11}" for k in COLUMNS), file=out)
    for c in conflicts if details else ():
        print(f"\n[{c.kind}] {c.surface}  ({c.detail})", file=out)
        for o in c.occurrences:
            tag = "-" if o.label is None else o.label + ("" if o.assertion == "present" else ":" + str(o.assertion))
            print(f"    {o.record:34} {tag:22} {o.context}", file=out)


# ---- diff: spans edited since a git revision ----------------------------------------------------


def _records_at(rev: str | None, path: Path, repo: Path) -> dict[str, Record]:
    if rev is None:
        return {r.id: r for r in parse_record_file(path)} if path.exists() else {}
    rel = path.resolve().relative_to(repo.resolve()).as_posix()
    shown = subprocess.run(["git", "-C", str(repo), "show", f"{rev}:{rel}"], capture_output=True, text=True)
    if shown.returncode != 0:
        return {}
    return _parse_text(shown.stdout)


def _parse_text(content: str) -> dict[str, Record]:
    out: dict[str, Record] = {}
    rid, lines = None, []
    for raw in content.splitlines() + ["@@"]:
        if raw.startswith("@@"):
            if rid:
                text, ents = parse_markup("\n".join(lines).strip(), rid)
                out[rid] = Record(rid, text, ents)
            rid, lines = raw[2:].strip(), []
        elif not raw.startswith("//") and rid is not None:
            lines.append(raw)
    return out


def entity_diff(old: Record, new: Record) -> Counter:
    """Edited spans of one record, per (category, change): relabel, assertion, boundary, added, removed."""
    olds = {(e.start, e.end, e.label, e.assertion) for e in old.entities}
    news = {(e.start, e.end, e.label, e.assertion) for e in new.entities}
    gone, came = olds - news, news - olds
    c: Counter = Counter()
    for n in sorted(came):
        match = next((o for o in gone if o[0] == n[0] and o[1] == n[1]), None)
        kind = None
        if match:
            kind = "relabel" if match[2] != n[2] else "assertion"
        else:
            match = next((o for o in gone if o[2] == n[2] and o[0] < n[1] and n[0] < o[1]), None)
            kind = "boundary" if match else None
        if match:
            gone.discard(match)
            c[(n[2], kind)] += 1
        else:
            c[(n[2], "added")] += 1
    for o in gone:
        c[(o[2], "removed")] += 1
    return c


def relabels(old: Record, new: Record) -> Counter:
    """Spans kept with the same offsets but a new label, per (old label, new label)."""
    before = {(e.start, e.end): e.label for e in old.entities}
    return Counter(
        (before[(e.start, e.end)], e.label) for e in new.entities if before.get((e.start, e.end), e.label) != e.label
    )


def _same_text_pairs(base: str, pools: Sequence[str], repo: Path):
    """(old, new) for every record of the pools whose text is unchanged since ``base``; then the skipped count."""
    for pool in pools:
        for path in sorted(POOL_DIRS[pool].glob("*.tcm.txt")):
            old, new = _records_at(base, path, repo), _records_at(None, path, repo)
            for rid, rec in new.items():
                if rid in old:
                    yield (old[rid], rec) if old[rid].text == rec.text else None


def diff(base: str, pools: Sequence[str], repo: Path = RESOURCES.parent) -> tuple[Counter, int]:
    """Edited spans per category since ``base``; also the number of records skipped (text changed)."""
    total: Counter = Counter()
    skipped = 0
    for pair in _same_text_pairs(base, pools, repo):
        if pair is None:
            skipped += 1
        else:
            total += entity_diff(*pair)
    return total, skipped


def _diff_main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="consistency diff", description="spans edited since a git revision")
    ap.add_argument("--base", default="HEAD")
    ap.add_argument("--pools", nargs="+", default=list(POOL_DIRS), choices=list(POOL_DIRS))
    args = ap.parse_args(argv)
    total, skipped = diff(args.base, args.pools)
    kinds = ("relabel", "assertion", "boundary", "added", "removed")
    print(f"{'category':16} " + " ".join(f"{k:>9}" for k in kinds) + "      all")
    for cat in LABELS:
        row = [total.get((cat, k), 0) for k in kinds]
        if any(row):
            print(f"{cat:16} " + " ".join(f"{v:>9}" for v in row) + f" {sum(row):>8}")
    print(f"total edited spans: {sum(total.values())}; records skipped because their text changed: {skipped}")
    pairs: Counter = Counter()
    for pair in _same_text_pairs(args.base, args.pools, RESOURCES.parent):
        if pair is not None:
            pairs += relabels(*pair)
    print(
        "relabels (old -> new, counted above under the new label): "
        + ", ".join(f"{a}->{b} {n}" for (a, b), n in pairs.most_common())
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["diff"]:
        return _diff_main(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pools", nargs="+", default=list(POOL_DIRS), choices=list(POOL_DIRS))
    ap.add_argument("--json", type=Path, help="also write every conflict as JSON")
    ap.add_argument("--category", choices=list(LABELS), help="only conflicts that involve this category")
    ap.add_argument("--kind", choices=list(KINDS), help="only this kind of conflict")
    ap.add_argument(
        "--same-heading", action="store_true", help="only label conflicts whose labels differ under one section heading"
    )
    ap.add_argument("--counts", action="store_true", help="print the counts only")
    ap.add_argument("--boundaries-all", action="store_true", help="boundary conflicts for every category")
    ap.add_argument("--rev", help="read the record files as they were at this git revision")
    args = ap.parse_args(argv)
    records = load_records(args.pools, rev=args.rev)
    found = find_conflicts(records, None if args.boundaries_all else WEAK)
    found = [c for c in select(found, args.category) if args.kind is None or c.kind == args.kind]
    if args.same_heading:
        found = [c for c in found if c.same_heading is not None]
    report(found, sys.stdout, details=not args.counts)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(
                {"counts": counts(found), "conflicts": [c.to_dict() for c in found]}, ensure_ascii=False, indent=1
            ),
            encoding="utf-8",
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
