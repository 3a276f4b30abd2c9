"""Score several training runs side by side on the test splits (torch, FP32).

    python -m tcm_desktop.training.ablate --corpus work_data/corpus --runs runs/abl_full runs/abl_nolex ... \
        [--markdown OUT.md]

Used for the ablations in the model card: the runs share data, seed and time
budget and differ in one component (lexicon features, BiLSTM, pruning).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .export_ner import load_run
from .train_ner import SOURCES, evaluate_sets, load_corpus


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--runs", type=Path, nargs="+", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--markdown", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    corpus = load_corpus(args.corpus, SOURCES)
    sets = {name: src[args.split] for name, src in corpus.items() if src[args.split]}
    rows = {}
    for run in args.runs:
        model, vocab, lexicon, conf = load_run(run)
        res = evaluate_sets(model, vocab, lexicon, sets, model.cfg.max_len)
        params = sum(p.numel() for p in model.parameters())
        minutes = conf["args"].get("minutes", "?")
        rows[run.name] = {"params": params, "minutes": minutes, "f1": {k: v["micro"]["f1"] for k, v in res.items()}}
        print(run.name, json.dumps(rows[run.name]), flush=True)
    names = list(sets)
    lines = ["| run | params | train minutes | " + " | ".join(f"{n} F1" for n in names) + " |",
             "|---|---:|---:|" + "---:|" * len(names)]
    for run, r in rows.items():
        lines.append(f"| {run} | {r['params']:,} | {r['minutes']} | " + " | ".join(f"{100 * r['f1'][n]:.2f}" for n in names) + " |")
    md = "\n".join(lines) + "\n"
    print(md)
    if args.markdown:
        args.markdown.write_text(md, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
