"""Recall of de-identification on records with planted identifiers (tests/data/privacy/*.jsonl).

Each line holds a record written for this measurement: ``markup`` (clinical
entities as ``[text|LABEL]``), ``patient_name`` (the patient field, may be
empty) and ``identifiers`` ([kind, text] pairs; every occurrence of each text
is an identifier). Reported, per kind and overall:

* recall: planted identifier occurrences entirely inside a replaced span;
* leaks: planted strings still present anywhere in the de-identified export dict;
* offset errors: entities whose text differs from the new text at their offsets;
* clinical entities dropped, and placeholders put into records without identifiers
  (false positives).

With ``--team`` it also de-identifies the team's annotated test records
(``resources/annotated``, split as in training; they hold no real identifiers)
and counts what it replaced there and how many gold entities it lost: the
price in clinical content.

    python benchmarks/deid_recall.py [FILE.jsonl ...] [--shift-dates] [--team] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from tcm_desktop.records.deidentify import Deidentifier, check_offsets, deidentify_record, find_identifiers, leaks
from tcm_desktop.structured import FoundEntity, StructuredRecord
from tcm_desktop.text.markup import parse_markup

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "privacy"
DEFAULT_FILES = [DATA / "planted.jsonl"]


def load(path: Path) -> list[tuple[StructuredRecord, str, list[tuple[str, str]]]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        text, ents = parse_markup(d["markup"], d["id"])
        rec = StructuredRecord(d["id"], text, [FoundEntity(e.start, e.end, e.label, text[e.start:e.end], e.assertion)
                                               for e in ents])
        ids = [(k, s) for k, s in d["identifiers"]]
        for _, s in ids:
            if s not in text:
                raise ValueError(f"{path}:{d['id']}: planted {s!r} is not in the text")
        out.append((rec, d.get("patient_name", ""), ids))
    return out


def measure(files: list[Path], shift_dates: bool = False) -> dict:
    hit, total = Counter(), Counter()
    missed: list[str] = []
    leaked: list[str] = []
    offset_errors: list[str] = []
    entities = dropped = clean_records = clean_placeholders = 0
    de = Deidentifier(shift_dates=shift_dates, secret=b"benchmark")
    for path in files:
        for rec, patient, ids in load(path):
            shift = de.shift_for(patient or rec.id)
            spans = find_identifiers(rec.text, [patient], shift)
            for kind, s in ids:
                start = rec.text.find(s)
                while start >= 0:
                    total[kind] += 1
                    if any(f.start <= start and start + len(s) <= f.end for f in spans):
                        hit[kind] += 1
                    else:
                        missed.append(f"{rec.id} {kind} {s}")
                    start = rec.text.find(s, start + 1)
            export = de.export_dict({**rec.to_dict(), "patient_name": patient})
            out = StructuredRecord.from_dict(export)
            leaked += [f"{rec.id} {s}" for s in leaks(export, [s for _, s in ids])]
            offset_errors += [f"{rec.id} {p}" for p in check_offsets(out)]
            entities += len(rec.entities)
            dropped += len(rec.entities) - len(out.entities)
            if not ids:
                clean_records += 1
                clean_placeholders += sum(1 for f in spans if f.kind != "date")
    return {
        "files": [str(p) for p in files], "shift_dates": shift_dates,
        "recall": {k: [hit[k], total[k]] for k in sorted(total)},
        "overall": [sum(hit.values()), sum(total.values())],
        "missed": missed, "leaked": leaked, "offset_errors": offset_errors,
        "entities": entities, "entities_dropped": dropped,
        "clean_records": clean_records, "placeholders_in_clean_records": clean_placeholders,
    }


def team_false_positives() -> dict:
    """Placeholders and lost gold entities on the team test split (records without identifiers)."""
    from tcm_desktop.training.team_records import load_splits

    records = load_splits()["test"]
    chars = placeholders = entities = dropped = 0
    examples: list[str] = []
    for r in records:
        rec = StructuredRecord(r.id, r.text, [FoundEntity(e.start, e.end, e.label, r.text[e.start:e.end], e.assertion)
                                              for e in r.entities])
        spans = find_identifiers(rec.text)
        chars += len(rec.text)
        placeholders += len(spans)
        examples += [f"{r.id} {f.kind}: {rec.text[max(0, f.start - 6):f.end + 6]!r}" for f in spans]
        out, report = deidentify_record(rec)
        entities += len(rec.entities)
        dropped += len(report.dropped_entities)
    return {"records": len(records), "chars": chars, "placeholders": placeholders, "entities": entities,
            "entities_dropped": dropped, "examples": examples}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--shift-dates", action="store_true")
    ap.add_argument("--team", action="store_true", help="also count false positives on the team test records")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    r = measure(args.files or DEFAULT_FILES, args.shift_dates)
    if args.team:
        r["team_test"] = team_false_positives()
    if args.json:
        print(json.dumps(r, ensure_ascii=False, indent=1))
        return 0
    print("| kind | found / planted | recall |\n|---|---|---|")
    for k, (h, n) in [*r["recall"].items(), ("**all**", r["overall"])]:
        print(f"| {k} | {h} / {n} | {h / n:.1%} |")
    print(f"\nleaks in the export: {len(r['leaked'])}; offset errors: {len(r['offset_errors'])}; "
          f"clinical entities dropped: {r['entities_dropped']} / {r['entities']}; "
          f"placeholders in {r['clean_records']} records without identifiers: {r['placeholders_in_clean_records']}")
    for m in r["missed"]:
        print("missed:", m)
    for m in r["leaked"] + r["offset_errors"]:
        print("problem:", m)
    if args.team:
        t = r["team_test"]
        print(f"\nteam test records (no identifiers): {t['records']} records, {t['chars']} characters, "
              f"{t['placeholders']} replaced spans, gold entities lost {t['entities_dropped']} / {t['entities']}")
        for m in t["examples"]:
            print("replaced:", m)
    return 0


if __name__ == "__main__":
    sys.exit(main())
