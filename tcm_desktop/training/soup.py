"""Average the weights of runs fine-tuned from one starting point (a "model soup").

Runs that start from the same weights and differ in seed or data order land in
one basin; their mean is usually at least as good as the best of them, at no
cost in size or speed (Wortsman et al., 2022). Whether it is better here is
decided by :mod:`tcm_desktop.training.selection` on dev, like any other run.

    python -m tcm_desktop.training.soup --runs RUN_A RUN_B [...] --out RUN_DIR
    python -m tcm_desktop.training.soup --greedy --corpus DIR --runs RUN_A RUN_B [...] --out RUN_DIR \
        [--mask-labels ccks2019:BODY_PART ...] [--json LOG.json]

``--greedy`` is Wortsman et al.'s greedy soup: the runs are ranked by their dev
selection score, and each in turn joins the soup only if the soup's dev score does
not drop; dev alone decides, so the test set stays untouched by the choice.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import torch

from tcm_desktop.training.cli_args import add_label_masks

SHARED_FILES = ("vocab.json", "lexicon.json")


def _config(run: Path) -> dict:
    conf = json.loads((run / "config.json").read_text(encoding="utf-8"))
    return {"model": conf["model"], "tags": conf["tags"]}


def average_runs(runs: list[Path], out: Path) -> dict:
    """Write the mean of the runs' ``model.pt`` to ``out`` with their shared vocabulary and lexicon."""
    if len(runs) < 2:
        raise SystemExit("a soup needs at least two runs")
    first = _config(runs[0])
    for run in runs[1:]:
        if _config(run) != first:
            raise SystemExit(f"{run} has another network or tag set than {runs[0]}")
        for name in SHARED_FILES:
            a, b = runs[0] / name, run / name
            if a.exists() != b.exists() or (a.exists() and a.read_bytes() != b.read_bytes()):
                raise SystemExit(f"{run} has another {name} than {runs[0]}")
    states = [torch.load(r / "model.pt", map_location="cpu", weights_only=True) for r in runs]
    if any(s.keys() != states[0].keys() for s in states):
        raise SystemExit("the runs' checkpoints hold different parameters")
    mean = {}
    for k, v in states[0].items():
        mean[k] = torch.stack([s[k].float() for s in states]).mean(0).to(v.dtype) if v.is_floating_point() else v
    out.mkdir(parents=True, exist_ok=True)
    torch.save(mean, out / "model.pt")
    for name in SHARED_FILES:
        if (runs[0] / name).exists():
            shutil.copyfile(runs[0] / name, out / name)
    conf = json.loads((runs[0] / "config.json").read_text(encoding="utf-8"))
    conf["args"] = {"soup_of": [str(r) for r in runs]}
    (out / "config.json").write_text(json.dumps(conf, ensure_ascii=False, indent=1), encoding="utf-8")
    return conf


def greedy_soup(runs: list[Path], out: Path, score: Callable[[Path], dict]) -> list[dict]:
    """Rank ``runs`` by ``score`` (a selection row), add each to the soup if the soup's score does not drop,
    write the final soup to ``out``; returns the log of every step."""
    rows = sorted((score(r) for r in runs), key=lambda r: -r["selection"])
    log = [{"step": "ingredient", **r} for r in rows]
    chosen, best = [Path(rows[0]["run"])], rows[0]["selection"]
    with tempfile.TemporaryDirectory() as tmp:
        for row in rows[1:]:
            trial = chosen + [Path(row["run"])]
            average_runs(trial, Path(tmp))
            res = score(Path(tmp))
            kept = res["selection"] >= best
            log.append({"step": "try", "soup": [str(r) for r in trial], "selection": res["selection"],
                        "dev_f1": res["dev_f1"], "kept": kept})
            if kept:
                chosen, best = trial, res["selection"]
    if len(chosen) > 1:
        average_runs(chosen, out)
    else:  # no soup beat the best single run: that run is the result
        shutil.copytree(chosen[0], out, dirs_exist_ok=True)
    log.append({"step": "result", "soup": [str(r) for r in chosen], "selection": best})
    return log


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=Path, nargs="+", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--greedy", action="store_true", help="greedy soup chosen on dev (needs --corpus)")
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--dev-per-source", type=int, default=120)
    ap.add_argument("--sources", nargs="*", help="dev sources that score the soup (default: all)")
    add_label_masks(ap, "leave these categories of a public source out of the dev score (as train_ner --mask-labels)")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--json", type=Path, help="write the greedy soup's log here")
    args = ap.parse_args(argv)
    if not args.greedy:
        average_runs(args.runs, args.out)
        print(f"averaged {len(args.runs)} runs into {args.out}")
        return 0
    if args.corpus is None:
        raise SystemExit("--greedy needs --corpus (the dev sets decide)")
    from tcm_desktop.training.ner_data import parse_label_masks
    from tcm_desktop.training.selection import load_dev, score_run
    from tcm_desktop.training.train_ner import SOURCES

    if args.threads:
        torch.set_num_threads(args.threads)
    dev = load_dev(args.corpus, args.dev_per_source, args.sources or list(SOURCES), parse_label_masks(args.mask_labels))
    log = greedy_soup(args.runs, args.out, lambda run: score_run(run, dev))
    for row in log:
        print(json.dumps(row, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(log, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
