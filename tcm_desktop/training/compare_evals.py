"""Side-by-side table of evaluation JSON files (written by ``evaluate --json``), one column per model.

    python -m tcm_desktop.training.compare_evals shipped=a.json finetuned=b.json [--source team] [--ci]

Why: an ablation is read across models on the same test set; this prints the
overall, unseen/seen and per-category strict F1 of each file in one table so
the model card's numbers come from a command, not from copying. With ``--ci`` each
later column's change against the first comes with a paired bootstrap 95% interval
over the test records (files written by ``evaluate`` since it keeps per-record counts),
so a difference inside sampling noise reads as such.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from tcm_desktop.schema import LABELS
from tcm_desktop.training.metrics import paired_delta_ci


def _delta(res: dict, names: list[str], key: str) -> list[str]:
    """`` [lo, hi]`` of each later column against the first, or nothing when a file lacks per-record counts."""
    counts = [res[n].get("record_counts", {}).get(key) for n in names]
    if any(c is None for c in counts) or len({len(c) for c in counts}) != 1:
        return [""] * len(names)
    ref = np.array(counts[0])
    out = [""]
    for c in counts[1:]:
        lo, hi = paired_delta_ci(ref, np.array(c))
        out.append(f" [{100 * lo:+.1f}, {100 * hi:+.1f}]")
    return out


def rows(results: dict[str, dict], source: str, ci: bool = False) -> list[list[str]]:
    """Table rows: overall, unseen/seen (when measured), then each category with gold support; with ``ci`` the
    micro and per-category cells of later columns carry the paired 95% interval of their change."""
    res = {name: r["sources"][source] for name, r in results.items() if source in r["sources"]}
    names = list(res)

    def cells(values: list[str], key: str) -> list[str]:
        return [v + d for v, d in zip(values, _delta(res, names, key))] if ci else values

    out = [["micro F1", *cells([f"{100 * res[n]['micro']['f1']:.2f}" for n in names], "micro")],
           ["macro F1", *(f"{100 * res[n]['macro_f1']:.2f}" for n in names)]]
    if all("novelty" in res[n] for n in names):
        for group in ("unseen", "seen"):
            out.append([f"{group} entities F1", *(f"{100 * res[n]['novelty'][group]['f1']:.2f}" for n in names)])
    for label in LABELS:
        support = res[names[0]]["per_label"].get(label, {}).get("support", 0)
        if support:
            out.append([f"{label} ({support})",
                        *cells([f"{100 * res[n]['per_label'][label]['f1']:.1f}" for n in names], label)])
    return out


def file_rows(results: dict[str, dict], source: str, label: str) -> list[list[str]]:
    """One row per test file (writing style): ``label``'s F1 (or micro F1 for ``micro``) with its gold support."""
    res = {name: r["sources"][source].get("by_file", {}) for name, r in results.items() if source in r["sources"]}
    names = list(res)
    out = []
    for f in sorted(set().union(*(set(v) for v in res.values()))):
        cells = []
        for n in names:
            entry = res[n].get(f)
            score = entry and (entry["micro"] if label == "micro" else entry["per_label"].get(label))
            cells.append(f"{100 * score['f1']:.1f} ({score['support']})" if score else "–")
        out.append([f, *cells])
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="NAME=EVAL.json")
    ap.add_argument("--source", default="team")
    ap.add_argument("--by-file", metavar="LABEL", help="instead: one row per test file, F1 of LABEL (or micro)")
    ap.add_argument("--ci", action="store_true", help="paired bootstrap 95%% interval of each change against the first file")
    args = ap.parse_args(argv)
    results = {}
    for item in args.runs:
        name, _, path = item.partition("=")
        results[name] = json.loads(Path(path).read_text(encoding="utf-8"))
    names = [n for n in results if args.source in results[n]["sources"]]
    print(f"| {args.source} test | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    table = file_rows(results, args.source, args.by_file) if args.by_file else rows(results, args.source, args.ci)
    for row in table:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
