"""The mechanical annotation conventions (guidelines S9), applied to the team record files.

The agreement study (docs/accuracy.md, section 7) showed the team files, train and
test alike, breaking rules S2 and S3 in the same few ways, each of which a
machine can decide without judgement and without a model:

- ``advice``: S3 says advice to avoid something is not annotated, yet
  ``忌[生冷|CAUSE]`` and ``避免[受凉|CAUSE]`` appear: a CAUSE span whose clause
  holds an advice cue before it (忌, 避免, 禁, 戒 but not 已戒, 预防, 注意, 勿, 防止)
  is removed;
- ``cue``: S3 keeps the cue words outside a CAUSE (遇, 每于, 每遇, 每逢, 因, 由于,
  长期); S9 adds the other duration and frequency adverbs of the same kind
  (长时间, 长年, 常年, 连日, 连续, 经常). A CAUSE span that starts with one of them
  is trimmed to what follows, and so is a duration right after the cue
  (``连续两天泡温泉`` gives ``[泡温泉|CAUSE]``);
- ``site``: S2 says a site written as one phrase with its finding is part of the
  finding's span (``[颈前|BODY_PART][疼痛|SYMPTOM]`` is wrong). A BODY_PART span
  directly followed by a SIGN or SYMPTOM span is fused into it, unless the site
  is shared by several findings (the finding is followed by 、/及/和/并/伴/与 and
  another finding: ``[双手|BODY_PART][皮损肥厚|SIGN]、[皲裂|SIGN]``). Sites joined to it
  by 、/及/和/与 go with it (``[双手指端及足底针刺觉减退|SIGN]``), and so does a degree
  word between site and finding (``[双踝轻度肿胀|SIGN]``).

Only span markup changes, never the text.

    python -m tcm_desktop.training.conventions [--check] [FILE_OR_DIR ...]

Without paths it rewrites the team train and test files and the agreement
study's second annotation; ``--check`` changes nothing and exits 1 if a file
breaks a convention (CI runs it through ``tests/test_conventions.py``).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from tcm_desktop.annotation import Entity
from tcm_desktop.text.markup import parse_markup, render_markup
from tcm_desktop.training.team_records import ANNOTATED_DIR

AGREEMENT_FILE = ANNOTATED_DIR.parent / "agreement" / "test_sample_second.tcm.txt"
DEFAULT_PATHS = (ANNOTATED_DIR / "train", ANNOTATED_DIR / "test", AGREEMENT_FILE)

#: Cue words S3 and S9 keep outside a CAUSE span, longest first.
CAUSE_CUES = ("长时间", "每于", "每遇", "每逢", "由于", "长期", "长年", "常年", "连日", "连续", "经常", "遇", "因")
_ADVICE = re.compile(r"忌|避免|(?<!已)戒|预防|注意|勿|防止|(?<![不严])禁")
_CLAUSE_END = re.compile(r"[，。；;！？\n]|\d[.、．]")
_SHARED = re.compile(r"[、及和并伴与](?:有|见)?")
_JOINED = re.compile(r"[、及和与]?")
_DEGREE = re.compile(r"稍|略|轻|轻度|中度|重度")
_DURATION = re.compile(r"[0-9一二两三四五六七八九十几数]+个?(?:天|晚|夜|日|周|月|年|小时)")
FINDINGS = ("SIGN", "SYMPTOM")


def _clause_before(text: str, pos: int) -> str:
    """The text from the start of the clause up to ``pos``."""
    start = 0
    for m in _CLAUSE_END.finditer(text, 0, pos):
        start = m.end()
    return text[start:pos]


def _advice(text: str, ents: list[Entity], changes: Counter) -> list[Entity]:
    kept = []
    for e in ents:
        if e.label == "CAUSE" and _ADVICE.search(_clause_before(text, e.start)):
            changes["advice"] += 1
            continue
        kept.append(e)
    return kept


def _cues(text: str, ents: list[Entity], changes: Counter) -> list[Entity]:
    out = []
    for e in ents:
        if e.label == "CAUSE":
            span = text[e.start : e.end]
            cue = next((c for c in CAUSE_CUES if span.startswith(c) and len(span) > len(c)), None)
            if cue:
                start = e.start + len(cue)
                dur = _DURATION.match(text, start, e.end)
                if dur and dur.end() < e.end:
                    start = dur.end()
                e = Entity(start, e.end, e.label, e.assertion)
                changes["cue"] += 1
        out.append(e)
    return out


def _sites(text: str, ents: list[Entity], changes: Counter) -> list[Entity]:
    ents = sorted(ents, key=lambda e: e.start)
    out: list[Entity] = []
    i = 0
    while i < len(ents):
        e = ents[i]
        nxt = ents[i + 1] if i + 1 < len(ents) else None
        gap_ok = nxt is not None and (nxt.start == e.end or _DEGREE.fullmatch(text[e.end : nxt.start]) is not None)
        if e.label == "BODY_PART" and gap_ok and nxt.label in FINDINGS:
            after = ents[i + 2] if i + 2 < len(ents) else None
            gap = text[nxt.end : after.start] if after is not None else ""
            shared = after is not None and after.label in FINDINGS and _SHARED.fullmatch(gap) is not None
            if not shared:
                start = e.start
                while out and out[-1].label == "BODY_PART" and _JOINED.fullmatch(text[out[-1].end : start]):
                    start = out.pop().start
                out.append(Entity(start, nxt.end, nxt.label, nxt.assertion))
                changes["site"] += 1
                i += 2
                continue
        out.append(e)
        i += 1
    return out


def apply(text: str, ents: Sequence[Entity]) -> tuple[list[Entity], Counter]:
    """The entities after the conventions, and how many spans each one changed."""
    changes: Counter = Counter()
    out = _advice(text, list(ents), changes)
    out = _cues(text, out, changes)
    out = _sites(text, out, changes)
    return sorted(out, key=lambda e: e.start), changes


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
