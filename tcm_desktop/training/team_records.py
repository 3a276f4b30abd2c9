"""The team-annotated clinical records: load, split, count.

Records live under ``resources/annotated/`` as inline markup
(``train/*.tcm.txt`` and ``test/*.tcm.txt``). The test records were written
separately from the train pool; dev is a deterministic slice of the train pool
chosen by a hash of the record id.

    python -m tcm_desktop.training.team_records stats
    python -m tcm_desktop.training.team_records export --out DIR
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from tcm_desktop.annotation import Record
from tcm_desktop.schema import ASSERTIONS, LABELS
from tcm_desktop.text.markup import parse_record_file

ANNOTATED_DIR = Path(__file__).resolve().parents[2] / "resources" / "annotated"
DEV_PERCENT = 15
MIN_PER_CATEGORY = 40
MIN_PER_ASSERTION = 40
MIN_RECORDS = 400
MIN_TEST_RECORDS = 100


def load_files(paths: Iterable[Path], prefix: str) -> list[Record]:
    """Every record of the ``*.tcm.txt`` files (in name order), ids ``<prefix>-<file stem>-<id>``."""
    records: list[Record] = []
    for path in sorted(paths):
        for r in parse_record_file(path):
            r.id = f"{prefix}-{path.name[:-len('.tcm.txt')]}-{r.id}"
            records.append(r)
    return records


def load_pool(pool: str, root: Path = ANNOTATED_DIR) -> list[Record]:
    """Every record of ``root/pool/*.tcm.txt``, ids prefixed by the pool and the file stem."""
    return load_files((root / pool).glob("*.tcm.txt"), f"team-{pool}")


def file_of(record_id: str) -> str:
    """The file stem in a ``team-<pool>-<file stem>-<id>`` record id (a file is one writing style)."""
    return record_id.split("-")[2]


def stable_bucket(key: str, buckets: int) -> int:
    """A bucket in ``range(buckets)`` that depends on ``key`` alone (not on Python's per-process hash seed),
    so splits, hold-outs and folds stay the same across runs and machines."""
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % buckets


def is_dev(record_id: str) -> bool:
    """Deterministic dev membership from the record id."""
    return stable_bucket(record_id, 100) < DEV_PERCENT


def load_splits(root: Path = ANNOTATED_DIR) -> dict[str, list[Record]]:
    pool = load_pool("train", root)
    return {
        "train": [r for r in pool if not is_dev(r.id)],
        "dev": [r for r in pool if is_dev(r.id)],
        "test": load_pool("test", root),
    }


def count(records: list[Record]) -> dict:
    cats: Counter = Counter()
    asserts: Counter = Counter()
    for r in records:
        for e in r.entities:
            cats[e.label] += 1
            asserts[e.assertion] += 1
    return {
        "records": len(records),
        "characters": sum(len(r.text) for r in records),
        "long_records_over_1500": sum(len(r.text) > 1500 for r in records),
        "categories": {c: cats.get(c, 0) for c in LABELS},
        "assertions": {a: asserts.get(a, 0) for a in ASSERTIONS},
    }


def shortfalls(splits: dict[str, list[Record]]) -> list[str]:
    """What the set still lacks against the targets (empty when met)."""
    every = [r for rs in splits.values() for r in rs]
    c = count(every)
    out = []
    if c["records"] < MIN_RECORDS:
        out.append(f"records {c['records']} < {MIN_RECORDS}")
    if len(splits["test"]) < MIN_TEST_RECORDS:
        out.append(f"test records {len(splits['test'])} < {MIN_TEST_RECORDS}")
    out += [f"{k} {v} < {MIN_PER_CATEGORY}" for k, v in c["categories"].items() if v < MIN_PER_CATEGORY]
    out += [
        f"{k} {v} < {MIN_PER_ASSERTION}"
        for k, v in c["assertions"].items()
        if k != "present" and v < MIN_PER_ASSERTION
    ]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("stats", help="print counts per split and the shortfalls against the targets")
    ex = sub.add_parser("export", help="write DIR/team/<split>.jsonl")
    ex.add_argument("--out", required=True, type=Path)
    args = ap.parse_args(argv)
    splits = load_splits()
    if args.cmd == "stats":
        table = {name: count(rs) for name, rs in splits.items()}
        table["all"] = count([r for rs in splits.values() for r in rs])
        print(json.dumps(table, ensure_ascii=False, indent=1))
        missing = shortfalls(splits)
        print("shortfalls: " + ("; ".join(missing) if missing else "none"))
        return 1 if missing else 0
    out = args.out / "team"
    out.mkdir(parents=True, exist_ok=True)
    for name, rs in splits.items():
        with open(out / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for r in rs:
                f.write(json.dumps(r.to_dict(), ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
