"""Which checkpoint is best: the dev sets and the score every model choice uses.

The dev sample of each public source is drawn by its own generator, seeded by
the source name alone, so two runs (other seeds, other corpora, mention
replacement on or off) are scored on the same records and their selection
scores can be compared. The team clinical dev set counts half of the score,
the public sources share the other half.

    python -m tcm_desktop.training.selection --corpus DIR --runs RUN [RUN ...] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Mapping
from pathlib import Path

TEAM = "team"


def selection_dev_sets(corpus: Mapping[str, Mapping[str, list[dict]]], per_source: int) -> dict[str, list[dict]]:
    """Every team dev record and at most ``per_source`` dev records of each public source."""
    out: dict[str, list[dict]] = {}
    for name, src in corpus.items():
        recs = list(src["dev"])
        if name != TEAM and len(recs) > per_source:
            recs = random.Random(f"selection-{name}").sample(recs, per_source)
        if recs:
            out[name] = recs
    return out


def selection_score(f1: Mapping[str, float]) -> float:
    """Half team dev F1, half the mean public dev F1 (team alone when there is no public source)."""
    public = [v for k, v in f1.items() if k != TEAM]
    if not public:
        return f1.get(TEAM, 0.0)
    if TEAM not in f1:
        return sum(public) / len(public)
    return 0.5 * f1[TEAM] + 0.5 * sum(public) / len(public)


def score_run(run: Path, dev: Mapping[str, list[dict]]) -> dict:
    """Dev F1 per source and the selection score of one run's ``model.pt``."""
    from tcm_desktop.training.export_ner import load_run
    from tcm_desktop.training.train_ner import evaluate_sets

    model, vocab, lexicon, _ = load_run(run)
    res = evaluate_sets(model, vocab, lexicon, dev, model.cfg.max_len)
    f1 = {k: round(v["micro"]["f1"], 4) for k, v in res.items()}
    return {"run": str(run), "dev_f1": f1, "selection": round(selection_score(f1), 4),
            "dev_records": {k: len(v) for k, v in dev.items()}}


def load_dev(corpus_dir: Path, per_source: int, sources: list[str], masks: dict[str, set[str]] | None = None) -> dict:
    """The selection dev sets of ``sources``, with the label masks applied."""
    from tcm_desktop.training.train_ner import load_corpus

    return selection_dev_sets(load_corpus(corpus_dir, sources, masks), per_source)


def score_runs(corpus_dir: Path, runs: list[Path], per_source: int, sources: list[str],
               masks: dict[str, set[str]] | None = None) -> list[dict]:
    """Dev F1 per source and the selection score of each run's ``model.pt``, all on the same records."""
    dev = load_dev(corpus_dir, per_source, sources, masks)
    return [score_run(run, dev) for run in runs]


def main(argv: list[str] | None = None) -> int:
    from tcm_desktop.training.cli_args import add_label_masks
    from tcm_desktop.training.train_ner import SOURCES

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--runs", type=Path, nargs="+", required=True)
    ap.add_argument("--dev-per-source", type=int, default=120)
    ap.add_argument("--sources", nargs="*", default=list(SOURCES))
    ap.add_argument("--threads", type=int, default=0)
    add_label_masks(ap, "leave these categories of a public source out of its dev score (as train_ner --mask-labels)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    from tcm_desktop.training.ner_data import parse_label_masks

    rows = score_runs(args.corpus, args.runs, args.dev_per_source, args.sources, parse_label_masks(args.mask_labels))
    for r in rows:
        print(f"{r['selection']:.4f}  {r['run']}  " + "  ".join(f"{k} {v:.4f}" for k, v in r["dev_f1"].items()))
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
