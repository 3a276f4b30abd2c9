"""Speed and memory of the structuring engine, configurations side by side in one run.

    python benchmarks/bench_structure.py [--model models/ner] [--fp32 models/ner_fp32] [--json OUT]

Configurations (each measured in its own fresh child process, one after the
other, so that peak memory is per configuration):

- ``int8``: the shipped INT8 model with dynamic batch pruning (length buckets);
- ``fp32``: the same model before quantization;
- ``int8-naive``: the shipped model with naive fixed-size batches in input order;
- ``bert-base-fp32``: a BERT-base-sized encoder (12 layers, 768 hidden, random
  weights) with the same lexicon/BiLSTM/CRF pipeline: for speed and memory only.

Records are real team-annotated test records, cut or joined to ~150, ~400,
~2,000 and ~5,000 characters. For each length: records/s over a batch,
p50/p95 latency of single-record calls; per configuration: peak RSS (VmHWM)
of the whole process, model loading included. Needs the ``train`` extra only
to build the BERT-base-sized ONNX file once (cached in the temp directory).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

LENGTHS = {"short": 150, "typical": 400, "long": 2000, "very_long": 5000, "mixed": 0}
MIXED = (150, 400, 150, 2000, 400, 150, 400, 800)
BATCH_RECORDS = {"short": 120, "typical": 80, "long": 12, "very_long": 5, "mixed": 48}
LATENCY_RECORDS = {"short": 20, "typical": 20, "long": 6, "very_long": 3, "mixed": 10}


def sample_texts(kind: str, n: int) -> list[str]:
    from tcm_desktop.training.team_records import load_pool

    pool = [r.text for r in load_pool("test")]
    out, i = [], 0
    while len(out) < n:
        target = LENGTHS[kind] or MIXED[len(out) % len(MIXED)]
        buf = ""
        while len(buf) < target:
            buf += pool[i % len(pool)] + "\n"
            i += 1
        out.append(buf[:target])
    return out


def peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(model: str, precision: str, naive: bool) -> dict:
    """Runs inside a fresh process: load the engine, time every length class."""
    from tcm_desktop.text.engine import StructuringEngine

    t0 = time.perf_counter()
    engine = StructuringEngine(model, precision=precision)
    load_s = time.perf_counter() - t0
    engine.structure("预热：头痛2天。")
    res: dict = {"load_s": round(load_s, 3), "lengths": {}}
    for kind in LENGTHS:
        texts = sample_texts(kind, BATCH_RECORDS[kind])
        items = [(str(i), t) for i, t in enumerate(texts)]
        t0 = time.perf_counter()
        list(engine.structure_many(items, naive_batch_size=16 if naive else None))
        batch_s = time.perf_counter() - t0
        lat = []
        for t in texts[: LATENCY_RECORDS[kind]]:
            t1 = time.perf_counter()
            engine.structure(t)
            lat.append(time.perf_counter() - t1)
        lat.sort()
        res["lengths"][kind] = {
            "chars": LENGTHS[kind] or "mixed 150-2000",
            "records_per_s": round(len(texts) / batch_s, 2),
            "p50_ms": round(1000 * statistics.median(lat), 1),
            "p95_ms": round(1000 * lat[min(len(lat) - 1, int(0.95 * len(lat)))], 1),
        }
    res["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return res


def build_bert_base(model_dir: Path, cache: Path) -> Path:
    """A BERT-base-sized copy of the pipeline (random weights), exported once."""
    out = cache / "bert_base_fp32"
    if (out / "model.fp32.onnx").exists():
        return out
    import shutil

    import torch

    from tcm_desktop.artifacts import write_checksums
    from tcm_desktop.text.lexicon import Lexicon
    from tcm_desktop.training.export_ner import PARITY_TEXTS, export_onnx, sample_inputs
    from tcm_desktop.training.ner_data import Vocab
    from tcm_desktop.training.ner_model import ModelConfig, NerModel

    meta = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    cfg = ModelConfig(**{**meta["config"], "hidden": 768, "layers": 12, "heads": 12, "ffn": 3072, "lstm": 256})
    torch.manual_seed(0)
    model = NerModel(cfg, meta["tags"]).eval()
    vocab = Vocab(meta["vocab"][3:])
    lex = Lexicon.load(model_dir / "lexicon.json")
    ids, lx, mask = sample_inputs(vocab, lex, cfg.n_lex, PARITY_TEXTS, cfg.max_len)
    out.mkdir(parents=True, exist_ok=True)
    export_onnx(model, out / "model.fp32.onnx", ids, lx, mask)
    for name in ("model.json", "lexicon.json", "normalization.json"):
        shutil.copy(model_dir / name, out / name)
    # the INT8 slot is required by the loader's file list; point it at the FP32 graph
    shutil.copy(out / "model.fp32.onnx", out / "model.int8.onnx")
    write_checksums(out)
    return out


def run_child(model: Path, precision: str, naive: bool) -> dict:
    cmd = [sys.executable, __file__, "--child", str(model), precision, "1" if naive else "0"]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=1800)
    if p.returncode != 0:
        raise RuntimeError(p.stderr[-3000:])
    return json.loads(p.stdout.strip().splitlines()[-1])


def cli_peak(model: Path, n: int = 200) -> dict:
    """Peak RSS of a whole ``tcm-desktop structure`` run on ``n`` typical records."""
    with tempfile.TemporaryDirectory() as d:
        inp = Path(d) / "in.jsonl"
        inp.write_text("\n".join(json.dumps({"id": str(i), "text": t}, ensure_ascii=False) for i, t in enumerate(sample_texts("typical", n))), encoding="utf-8")
        code = (
            "import sys, io, contextlib; from tcm_desktop.cli import main; "
            f"rc = main(['structure', '--model', {str(model)!r}, {str(inp)!r}], stdout=io.StringIO()); "
            "print(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])"
        )
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=1800)
        wall = time.perf_counter() - t0
        return {"records": n, "wall_s": round(wall, 2), "peak_rss_mb": round(int(p.stdout.strip().splitlines()[-1]) / 1024, 1)}


def machine() -> dict:
    info = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    try:
        cpu = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in cpu.splitlines() if line.startswith("model name"))
        flags = next(line for line in cpu.splitlines() if line.startswith("flags"))
        info["avx2"] = " avx2" in flags
        info["avx512_vnni"] = "avx512_vnni" in flags or "avx_vnni" in flags
    except (OSError, StopIteration):
        pass
    import onnxruntime

    info["onnxruntime"] = onnxruntime.__version__
    return info


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(sys.argv[2], sys.argv[3], sys.argv[4] == "1")))
        return 0
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=REPO / "models" / "ner")
    ap.add_argument("--fp32", type=Path, default=REPO / "models" / "ner_fp32", help="folder with model.fp32.onnx of the same model")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--skip-bert-base", action="store_true")
    ap.add_argument("--markdown", type=Path, help="write the run as a markdown page (docs/benchmarks.md)")
    args = ap.parse_args()
    cache = Path(tempfile.gettempdir()) / "tcm_bench_cache"
    cache.mkdir(exist_ok=True)
    fp32_dir = cache / "shipped_fp32"
    if (args.fp32 / "model.fp32.onnx").exists():
        import shutil

        from tcm_desktop.artifacts import write_checksums

        fp32_dir.mkdir(exist_ok=True)
        for f in args.model.iterdir():
            if f.is_file():
                shutil.copy(f, fp32_dir / f.name)
        shutil.copy(args.fp32 / "model.fp32.onnx", fp32_dir / "model.fp32.onnx")
        write_checksums(fp32_dir)
    configs = {"int8": (args.model, "int8", False), "int8-naive": (args.model, "int8", True)}
    if (fp32_dir / "model.fp32.onnx").exists():
        configs["fp32"] = (fp32_dir, "fp32", False)
    if not args.skip_bert_base:
        configs["bert-base-fp32"] = (build_bert_base(args.model, cache), "fp32", False)
    results = {"machine": machine(), "date": time.strftime("%Y-%m-%d"), "configs": {}}
    for name, (model, precision, naive) in configs.items():
        print(f"measuring {name} ...", file=sys.stderr, flush=True)
        results["configs"][name] = run_child(model, precision, naive)
    results["cli_structure_run"] = cli_peak(args.model)
    print(table(results))
    print(json.dumps(results, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    if args.markdown:
        args.markdown.write_text(page(results), encoding="utf-8")
    return 0


def page(results: dict) -> str:
    m = results["machine"]
    cfg = results["configs"]
    lines = [
        "# Benchmarks", "",
        f"Run on {results['date']} with `python benchmarks/bench_structure.py --markdown docs/benchmarks.md` "
        f"on {m.get('cpu', '?')} ({m.get('cpus')} CPUs, AVX2 {m.get('avx2')}, VNNI {m.get('avx512_vnni')}), "
        f"Python {m['python']}, onnxruntime {m['onnxruntime']}.", "",
        "Records are team-annotated test records cut or joined to the given length. `rec/s`: records per second "
        "structuring a batch of records (engine with rules, not only the network); p50/p95: single-record latency; "
        "peak RSS: the whole process, model loading included. Each configuration ran in its own fresh process, "
        "one after the other, in the same run.", "",
        table(results), "",
    ]
    if "int8" in cfg and "bert-base-fp32" in cfg:
        a, b = cfg["int8"]["lengths"]["typical"]["records_per_s"], cfg["bert-base-fp32"]["lengths"]["typical"]["records_per_s"]
        lines.append(f"Shipped INT8 vs BERT-base-sized FP32 on typical records: {a / b:.1f}x the throughput.")
    if "int8" in cfg and "int8-naive" in cfg:
        a, b = cfg["int8"]["lengths"]["typical"]["records_per_s"], cfg["int8-naive"]["lengths"]["typical"]["records_per_s"]
        lines.append(f"Dynamic batch pruning (length buckets) vs naive fixed batches of 16 windows, typical records: {a / b:.2f}x.")
    lines += ["", "Raw JSON of this run:", "", "```json", json.dumps(results, ensure_ascii=False, indent=1), "```", ""]
    return "\n".join(lines)


def table(results: dict) -> str:
    lines = ["| config | load s | peak RSS MB | " + " | ".join(f"{k} rec/s | {k} p50/p95 ms" for k in LENGTHS) + " |",
             "|---|---:|---:|" + "---:|---:|" * len(LENGTHS)]
    for name, r in results["configs"].items():
        cells = []
        for k in LENGTHS:
            v = r["lengths"][k]
            cells += [f"{v['records_per_s']}", f"{v['p50_ms']}/{v['p95_ms']}"]
        lines.append(f"| {name} | {r['load_s']} | {r['peak_rss_mb']} | " + " | ".join(cells) + " |")
    c = results["cli_structure_run"]
    lines.append(f"\n`tcm-desktop structure` on {c['records']} typical records: {c['wall_s']} s wall, peak RSS {c['peak_rss_mb']} MB")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
