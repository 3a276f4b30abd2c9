"""Scale of the clinic insights: mine rules from a generated database of 100,000 records.

    python benchmarks/bench_insights.py [--records 100000] [--min-count 5] [--db PATH] [--json OUT]

The database is generated from the team-annotated records (all splits): each
synthetic record is a random team record whose entities are kept with
probability 0.85 (so item sets vary but keep the clinic's real vocabulary,
co-occurrence and assertion mix, ~25 entities a record). Rows go straight into
the app's schema (``records``, ``record_versions``, ``entities``) with
``executemany`` for speed; the timed part is exactly what the command and the
window run: :func:`load_transactions` (SQL → transactions) and
:func:`mine_rules` for all four kinds with one-item antecedents. Each phase
is timed once in this process on the machine it runs on (wall seconds, and
the process's CPU seconds, which a busy shared machine inflates less; the
1-minute load average is recorded too); the target is ≤ 30 s for load +
mining on a 2-core clinic PC.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tcm_desktop.insights.rules import mine_rules  # noqa: E402
from tcm_desktop.insights.source import load_transactions  # noqa: E402
from tcm_desktop.records.database import Database, now_iso  # noqa: E402
from tcm_desktop.text.values import Normalizer  # noqa: E402
from tcm_desktop.training.team_records import load_splits  # noqa: E402


def generate(path: Path, n: int, seed: int = 0) -> int:
    """Write ``n`` synthetic records; returns the number of entity rows."""
    norm = Normalizer.from_resources(REPO / "models" / "ner" / "normalization.json")
    templates = []
    for recs in load_splits().values():
        for r in recs:
            ents = []
            for e in r.entities:
                text = r.text[e.start : e.end]
                value = norm.herb(text) if e.label == "HERB" else norm.syndrome(text) if e.label == "SYNDROME" else {}
                ents.append((e.start, e.end, e.label, text, e.assertion, json.dumps(value, ensure_ascii=False)))
            templates.append(ents)
    rng = random.Random(seed)
    at = now_iso()
    rows = 0
    with Database(path) as db:
        conn = db.db.conn
        with conn:
            for i in range(n):
                rid = f"g{i:06d}"
                ents = [e for e in rng.choice(templates) if rng.random() < 0.85]
                conn.execute("INSERT INTO records (id, title, created, updated, current_version) VALUES (?,?,?,?,1)",
                             (rid, rid, at, at))
                conn.execute("INSERT INTO record_versions (record_id, version, text, structured, saved_at) "
                             "VALUES (?,1,'','{}',?)", (rid, at))
                conn.executemany(
                    'INSERT INTO entities (record_id, version, start, "end", label, text, assertion, score, status, '
                    "normalized) VALUES (?,1,?,?,?,?,?,1.0,'unreviewed',?)",
                    [(rid, *e) for e in ents],
                )
                rows += len(ents)
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--db", type=Path, help="reuse/keep the generated database here")
    ap.add_argument("--json", type=Path, help="also write the numbers as JSON")
    ap.add_argument("--method", choices=("auto", "apriori"), default="auto",
                    help="apriori: one-item rules through efficient-apriori too (the comparison in docs/insights.md)")
    args = ap.parse_args(argv)
    tmp = tempfile.TemporaryDirectory()
    path = args.db or Path(tmp.name) / "bench.sqlite3"
    result: dict = {"records": args.records, "min_count": args.min_count, "method": args.method, "cpus": os.cpu_count(),
                    "python": platform.python_version(), "machine": platform.machine()}
    if not path.exists():
        t0 = time.perf_counter()
        result["entity_rows"] = generate(path, args.records)
        result["generate_s"] = round(time.perf_counter() - t0, 1)
    c0, t0 = time.process_time(), time.perf_counter()
    tx = load_transactions(path)
    c1, t1 = time.process_time(), time.perf_counter()
    rules = mine_rules(tx, min_count=args.min_count, method=args.method)
    c2, t2 = time.process_time(), time.perf_counter()
    result.update({
        "transactions": len(tx), "load_s": round(t1 - t0, 2), "mine_s": round(t2 - t1, 2),
        "total_s": round(t2 - t0, 2),
        "load_cpu_s": round(c1 - c0, 2), "mine_cpu_s": round(c2 - c1, 2), "total_cpu_s": round(c2 - c0, 2),
        "load_average_1min_after": round(os.getloadavg()[0], 2), "rules": len(rules),
        "rules_by_kind": {k: sum(r.kind == k for r in rules) for k in dict.fromkeys(r.kind for r in rules)},
    })
    print(json.dumps(result, ensure_ascii=False, indent=1))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0 if result["total_s"] <= 30 else 1


if __name__ == "__main__":
    sys.exit(main())
