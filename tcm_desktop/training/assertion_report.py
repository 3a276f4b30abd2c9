"""How often the assertion rules get the team's assertion right, on the gold spans of a split.

    python -m tcm_desktop.training.assertion_report [--split test|dev|train] [--json OUT]

Why: span F1 ignores the assertion (absent, possible, history, family), yet a
denied symptom filed as present is a clinical error. Running the rules on the
gold spans isolates them from the model's span errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tcm_desktop.text.assertion import evaluate_on
from tcm_desktop.training import team_records


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("train", "dev", "test"), default="test")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    records = team_records.load_splits()[args.split]
    res = evaluate_on(records)
    print(f"team {args.split}: {len(records)} records, {res['n']} entities, assertion accuracy {100 * res['accuracy']:.1f}%")
    print("| value | gold | recall | precision |")
    print("|---|---:|---:|---:|")
    for value, v in res["per_value"].items():
        print(f"| {value} | {v['support']} | {100 * v['recall']:.1f} | {100 * v['precision']:.1f} |")
    if args.json:
        res = {**res, "confusion": {f"{g}->{p}": n for (g, p), n in res["confusion"].items()}}
        args.json.write_text(json.dumps(res, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
