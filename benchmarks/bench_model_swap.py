"""Two text models side by side on the same records: records/s and peak memory, each in a fresh process.

    python benchmarks/bench_model_swap.py --models OLD_DIR NEW_DIR [--records 300] [--rounds 3] [--json OUT]

Why: a retrained model of the same shape should keep the speed and memory
goals (docs/benchmarks.md); this checks it in one run on one machine, with the
models alternating so that a change in the machine's load hits both alike.
Records: the team test records (typical clinical notes), repeated to --records.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
from tcm_desktop.text.engine import StructuringEngine
from tcm_desktop.training.team_records import load_splits
model, n = sys.argv[1], int(sys.argv[2])
test = load_splits()["test"]
items = [(f"r{i}", test[i % len(test)].text) for i in range(n)]
engine = StructuringEngine(model)
list(engine.structure_many(items[:8]))
t0 = time.perf_counter()
out = list(engine.structure_many(items))
dt = time.perf_counter() - t0
print(json.dumps({"records": n, "seconds": dt, "records_per_s": n / dt,
                  "chars_per_s": sum(len(t) for _, t in items) / dt,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "entities": sum(len(r.entities) for r in out)}))
"""


def run_one(model: Path, n: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    res = subprocess.run([sys.executable, "-c", CHILD, str(model), str(n)], capture_output=True, text=True, env=env, cwd=REPO, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=Path, nargs=2, required=True)
    ap.add_argument("--records", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    load_before = os.getloadavg()
    runs: dict[str, list[dict]] = {str(m): [] for m in args.models}
    for _ in range(args.rounds):
        for m in args.models:
            runs[str(m)].append(run_one(m, args.records))
    summary = {}
    for m, rs in runs.items():
        version = json.loads((Path(m) / "model.json").read_text(encoding="utf-8")).get("version")
        best = max(rs, key=lambda r: r["records_per_s"])
        summary[m] = {"version": version, "best_records_per_s": round(best["records_per_s"], 1),
                      "median_records_per_s": round(sorted(r["records_per_s"] for r in rs)[len(rs) // 2], 1),
                      "peak_rss_mb": round(max(r["peak_rss_mb"] for r in rs), 1), "runs": rs}
    report = {"load_before": load_before, "load_after": os.getloadavg(), "records": args.records, "models": summary}
    for s in summary.values():
        print(f"{s['version']}: median {s['median_records_per_s']} records/s (best {s['best_records_per_s']}), peak RSS {s['peak_rss_mb']} MB")
    print(f"load average before {load_before[0]:.1f}, after {report['load_after'][0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
