"""Average the weights of runs fine-tuned from one starting point (a "model soup").

Runs that start from the same weights and differ in seed or data order land in
one basin; their mean is usually at least as good as the best of them, at no
cost in size or speed (Wortsman et al., 2022). Whether it is better here is
decided by :mod:`tcm_desktop.training.selection` on dev, like any other run.

    python -m tcm_desktop.training.soup --runs RUN_A RUN_B [...] --out RUN_DIR
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch

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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=Path, nargs="+", required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    average_runs(args.runs, args.out)
    print(f"averaged {len(args.runs)} runs into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
