"""Ray's overhead and throughput for ``tcm-desktop archive``, against the plain ``structure`` CLI on the same data.

    python benchmarks/bench_archive.py compare [--records 2000] [--files 8] [--json OUT]
    python benchmarks/bench_archive.py large [--records 100000] [--files 100] [--parquet] --out DIR [--json OUT]
    python benchmarks/bench_archive.py parquet [--records 600] [--files 6] [--workers 2] [--json OUT]

Data: synthetic records made by recombining the sentences of the team records
(:mod:`tcm_desktop.scale.synthetic`, seed 0), written as ``--files`` JSONL files.

``compare`` runs, each in its own fresh process, one after the other:
``tcm-desktop structure`` on all files (one process, default 2 onnxruntime
threads), then ``tcm-desktop archive --ray local`` with 1 and 2 workers
(local Ray with that many CPUs, single-threaded onnxruntime per actor).
It reports wall time (process start to exit: Python, Ray and model start-up
included), records/s over that wall time, the archive's own records/s
(model loading in the driver and the Ray pipeline, not Ray's start), and the
peak resident memory of the driver and of each worker process (sampled every
0.2 s from /proc). ``large`` runs the archive with 2 workers on a larger
synthetic set; it resumes if run again with the same ``--out``.
``parquet`` runs the archive (``--workers``, each run a fresh process) on the
same records given three ways: ``--files`` JSONL files; as many Parquet files
(one task each); one Parquet file of row groups of ``records / files / 2``
rows, cut into tasks of ``records / files`` rows (so each task holds the
records of one JSONL file). It checks that all three give the same records,
byte for byte.

The machine's load (``/proc/loadavg``) is recorded before and after each run:
on a shared machine the timings say as much about the neighbours as about Ray.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def load() -> str:
    return Path("/proc/loadavg").read_text().split(" tasks")[0].strip()


class PeakRss(threading.Thread):
    """Peak RSS (MiB) of a process tree: the driver and each Ray worker that structures (``MapWorker``)."""

    def __init__(self, root_pid: int) -> None:
        super().__init__(daemon=True)
        self.root = root_pid
        self.driver = 0.0
        self.workers: dict[int, float] = {}
        self.stop = threading.Event()

    @staticmethod
    def _rss(pid: int) -> float:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0

    def run(self) -> None:
        while not self.stop.is_set():
            self.driver = max(self.driver, self._rss(self.root))
            for d in Path("/proc").iterdir():
                if d.name.isdigit():
                    try:
                        cmd = (d / "cmdline").read_bytes()
                    except OSError:
                        continue
                    if b"MapWorker(MapBatches(Structurer))" in cmd:
                        pid = int(d.name)
                        self.workers[pid] = max(self.workers.get(pid, 0.0), self._rss(pid))
            time.sleep(0.2)


def timed(cmd: list[str], stdout_path: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    before = load()
    t0 = time.perf_counter()
    with open(stdout_path, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
        mon = PeakRss(proc.pid)
        mon.start()
        _, err = proc.communicate()
    wall = time.perf_counter() - t0
    mon.stop.set()
    mon.join()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err[-2000:]}")
    return {"wall_s": round(wall, 2), "load_before": before, "load_after": load(), "driver_peak_rss_mib": round(mon.driver),
            "worker_peak_rss_mib": sorted(round(v) for v in mon.workers.values())}


def compare(args: argparse.Namespace) -> dict:
    from tcm_desktop.scale.synthetic import write_jsonl_files

    tmp = Path(tempfile.mkdtemp(prefix="bench_archive_"))
    files = write_jsonl_files(tmp / "in", args.records, args.files, seed=0)
    cli = [sys.executable, "-m", "tcm_desktop"]
    rows = {}
    r = timed(cli + ["structure", *map(str, files)], tmp / "structure.jsonl")
    r["records_per_s_wall"] = round(args.records / r["wall_s"], 2)
    rows["structure CLI (2 ORT threads)"] = r
    print(json.dumps(r), flush=True)
    for workers in (1, 2):
        out = tmp / f"out{workers}"
        r = timed(cli + ["archive", "--input", str(tmp / "in"), "--output", str(out), "--workers", str(workers)], tmp / f"archive{workers}.json")
        summary = json.loads((tmp / f"archive{workers}.json").read_text())
        r["records_per_s_wall"] = round(args.records / r["wall_s"], 2)
        r["records_per_s_job"] = summary["records_per_s"]
        r["job_s"] = round(summary["seconds"], 2)
        same = sorted(p.read_text(encoding="utf-8") for p in (out / "records").iterdir())
        r["records"] = summary["records"]
        rows[f"archive, local Ray, {workers} worker(s)"] = r
        print(json.dumps(r), flush=True)
        if workers == 1:
            first = same
        else:
            r["shards_equal_to_1_worker"] = same == first
    return {"records": args.records, "files": args.files, "data": "synthetic (team-record sentences recombined, seed 0)", "rows": rows}


def _lines(out: Path) -> list[str]:
    """The records of every shard, shards in name order (split at newlines only, as JSONL is)."""
    return [line for p in sorted((out / "records").iterdir()) for line in p.read_text(encoding="utf-8").split("\n") if line]


def parquet(args: argparse.Namespace) -> dict:
    from tcm_desktop.scale.synthetic import write_jsonl_files, write_parquet_files

    tmp = Path(tempfile.mkdtemp(prefix="bench_archive_pq_"))
    per_file = args.records // args.files
    write_jsonl_files(tmp / "jsonl", args.records, args.files, seed=0)
    write_parquet_files(tmp / "parquet", args.records, args.files, seed=0, row_group_rows=per_file)
    write_parquet_files(tmp / "one", args.records, 1, seed=0, row_group_rows=max(1, per_file // 2))
    cli = [sys.executable, "-m", "tcm_desktop", "archive", "--workers", str(args.workers)]
    rows, lines = {}, {}
    for name, extra in (("jsonl", []), ("parquet", []), ("one", ["--rows-per-task", str(per_file)])):
        out = tmp / f"out-{name}"
        r = timed(cli + ["--input", str(tmp / name), "--output", str(out), *extra], tmp / f"{name}.json")
        summary = json.loads((tmp / f"{name}.json").read_text())
        r |= {"records": summary["records"], "job_s": round(summary["seconds"], 2), "records_per_s_job": summary["records_per_s"],
              "records_per_s_wall": round(args.records / r["wall_s"], 2)}
        lines[name] = _lines(out)
        rows[name] = r
        print(name, json.dumps(r), flush=True)
    same = {"parquet files = jsonl files": lines["parquet"] == lines["jsonl"], "one parquet file = jsonl files": lines["one"] == lines["jsonl"]}
    return {"records": args.records, "files": args.files, "workers": args.workers,
            "data": "synthetic (team-record sentences recombined, seed 0)", "rows": rows, "identical_records": same}


def large(args: argparse.Namespace) -> dict:
    from tcm_desktop.scale import archive
    from tcm_desktop.scale.synthetic import write_jsonl_files, write_parquet_files

    data = args.out / "in"
    if not data.exists() and args.parquet:
        write_parquet_files(data, args.records, args.files, seed=0, row_group_rows=args.row_group_rows)
    elif not data.exists():
        write_jsonl_files(data, args.records, args.files, seed=0)
    print(f"load before: {load()}", flush=True)
    archive.connect("local", 2)
    summary = archive.run_archive([str(data)], args.out / "out", workers=2, log=sys.stdout, progress_every_s=60)
    print(summary.line(), flush=True)
    print(f"load after: {load()}", flush=True)
    return {"records": args.records, "files": args.files, "input": "parquet" if args.parquet else "jsonl",
            "row_group_rows": args.row_group_rows if args.parquet else None,
            "summary": summary.__dict__ | {"records_per_s": summary.records_per_s}}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    c = sub.add_parser("compare")
    c.add_argument("--records", type=int, default=2000)
    c.add_argument("--files", type=int, default=8)
    c.add_argument("--json", type=Path)
    g = sub.add_parser("large")
    g.add_argument("--records", type=int, default=100_000)
    g.add_argument("--files", type=int, default=100)
    g.add_argument("--out", type=Path, required=True)
    g.add_argument("--json", type=Path)
    g.add_argument("--parquet", action="store_true", help="the records as Parquet files (tasks of 2,000 rows)")
    g.add_argument("--row-group-rows", type=int, default=1_000)
    p = sub.add_parser("parquet")
    p.add_argument("--records", type=int, default=600)
    p.add_argument("--files", type=int, default=6)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--json", type=Path)
    args = ap.parse_args()
    result = {"compare": compare, "large": large, "parquet": parquet}[args.mode](args)
    result["machine"] = {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
