"""Side-by-side table of evaluation JSON files (written by ``evaluate --json``), one column per model.

    python -m tcm_desktop.training.compare_evals shipped=a.json finetuned=b.json [--source team]

Why: an ablation is read across models on the same test set; this prints the
overall, unseen/seen and per-category strict F1 of each file in one table so
the model card's numbers come from a command, not from copying.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tcm_desktop.schema import LABELS


def rows(results: dict[str, dict], source: str) -> list[list[str]]:
    """Table rows: overall, unseen/seen (when measured), then each category with gold support."""
    res = {name: r["sources"][source] for name, r in results.items() if source in r["sources"]}
    names = list(res)
    out = [["micro F1", *(f"{100 * res[n]['micro']['f1']:.2f}" for n in names)],
           ["macro F1", *(f"{100 * res[n]['macro_f1']:.2f}" for n in names)]]
    if all("novelty" in res[n] for n in names):
        for group in ("unseen", "seen"):
            out.append([f"{group} entities F1", *(f"{100 * res[n]['novelty'][group]['f1']:.2f}" for n in names)])
    for label in LABELS:
        support = res[names[0]]["per_label"].get(label, {}).get("support", 0)
        if support:
            out.append([f"{label} ({support})", *(f"{100 * res[n]['per_label'][label]['f1']:.1f}" for n in names)])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="NAME=EVAL.json")
    ap.add_argument("--source", default="team")
    args = ap.parse_args(argv)
    results = {}
    for item in args.runs:
        name, _, path = item.partition("=")
        results[name] = json.loads(Path(path).read_text(encoding="utf-8"))
    names = [n for n in results if args.source in results[n]["sources"]]
    print(f"| {args.source} test | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for row in rows(results, args.source):
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
