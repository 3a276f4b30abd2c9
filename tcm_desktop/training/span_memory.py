"""Span memory: would filling the model's gaps with strings the team always annotates help?

    python -m tcm_desktop.training.span_memory --model models/ner --split dev [--json OUT]

Why: a cheap span-level post-processing step is to remember every string that
the training records annotate with one label (almost) every time it occurs,
and to propose that label wherever such a string appears in a new record and
the model found nothing overlapping it (the clinic dictionary's rule, fed from
the training records instead of the doctor). It is only worth shipping if it
lifts F1 on records the memory was not built from, so this command measures
it: the memory comes from the team train split (plus dev when scoring test),
and the scores are on the chosen split, for a grid of thresholds.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

from tcm_desktop.annotation import Record
from tcm_desktop.schema import LABELS
from tcm_desktop.structured import FoundEntity
from tcm_desktop.text.clinic_dictionary import ClinicDictionary
from tcm_desktop.text.engine import StructuringEngine
from tcm_desktop.training import team_records
from tcm_desktop.training.metrics import Span, score

MIN_LEN = 2


def build(records: Sequence[Record]) -> dict[str, tuple[str, int, int]]:
    """``string -> (label, exact matches with that label, occurrences in the texts)``."""
    labels: dict[str, Counter] = defaultdict(Counter)
    for r in records:
        for e in r.entities:
            labels[r.text[e.start : e.end]][e.label] += 1
    spans_of = [{(e.start, e.end): e.label for e in r.entities} for r in records]
    out: dict[str, tuple[str, int, int]] = {}
    for s, c in labels.items():
        if len(s) < MIN_LEN:
            continue
        label = c.most_common(1)[0][0]
        exact = occ = 0
        for r, spans in zip(records, spans_of):
            i = r.text.find(s)
            while i >= 0:
                occ += 1
                exact += spans.get((i, i + len(s))) == label
                i = r.text.find(s, i + 1)
        out[s] = (label, exact, occ)
    return out


def select(memory: dict[str, tuple[str, int, int]], min_count: int, min_precision: float) -> dict[str, str]:
    """Strings annotated with their label at least ``min_count`` times and in ``min_precision`` of their occurrences."""
    return {s: lab for s, (lab, exact, occ) in memory.items() if exact >= min_count and occ and exact / occ >= min_precision}


def fill(text: str, spans: list[Span], terms: dict[str, str]) -> list[Span]:
    """Add a remembered string's label where no predicted span overlaps it: the clinic dictionary's rule."""
    found = [FoundEntity(a, b, label, text[a:b]) for a, b, label in spans]
    added = ClinicDictionary(terms).propose(text, found)
    return sorted([*spans, *((e.start, e.end, e.label) for e in added)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=Path("models/ner"))
    ap.add_argument("--split", choices=("dev", "test"), default="dev")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    splits = team_records.load_splits()
    source = splits["train"] + (splits["dev"] if args.split == "test" else [])
    records = splits[args.split]
    engine = StructuringEngine(args.model)
    pred = [[(e.start, e.end, e.label) for e in s.entities] for s in engine.structure_many([(r.id, r.text) for r in records])]
    gold = [[(e.start, e.end, e.label) for e in r.entities] for r in records]
    memory = build(source)
    rows = [{"setting": "model alone", "terms": 0, **_scores(gold, pred)}]
    for min_count in (1, 2, 3):
        for min_precision in (0.8, 0.9, 0.95):
            terms = select(memory, min_count, min_precision)
            filled = [fill(r.text, p, terms) for r, p in zip(records, pred)]
            rows.append({"setting": f"memory count>={min_count} precision>={min_precision}", "terms": len(terms), **_scores(gold, filled)})
    print(f"| setting (team {args.split}, {len(records)} records) | terms | micro F1 | macro F1 |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print(f"| {row['setting']} | {row['terms']} | {row['micro_f1']:.2f} | {row['macro_f1']:.2f} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


def _scores(gold: list[list[Span]], pred: list[list[Span]]) -> dict[str, float]:
    s = score(gold, pred, LABELS)
    return {"micro_f1": 100 * s["micro"]["f1"], "macro_f1": 100 * s["macro_f1"]}


if __name__ == "__main__":
    sys.exit(main())
