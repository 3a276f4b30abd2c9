"""Assemble ``models/ner/MODEL_CARD.md`` from measured results (no hand-typed numbers).

    python -m tcm_desktop.training.model_card --model models/ner --eval-dir runs/eval --out models/ner/MODEL_CARD.md

Reads the evaluation JSON files written by ``tcm_desktop.training.evaluate``
(``shipped_int8.json``, ``shipped_fp32.json``, ``unpruned_int8.json``,
``unpruned_fp32.json``) and the ablation table written by
``tcm_desktop.training.ablate`` (``ablations.md``), plus the prose in
``docs/model_card_text.md`` and the reading of the ablations in
``docs/model_card_ablations.md`` (placed after their table).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tcm_desktop.training.evaluate import markdown


def _f1(res: dict, src: str) -> str:
    r = res["sources"].get(src)
    return f"{100 * r['micro']['f1']:.2f}" if r else "–"


def build(model: Path, eval_dir: Path, prose: Path) -> str:
    meta = json.loads((model / "model.json").read_text(encoding="utf-8"))
    evals = {n: json.loads((eval_dir / f"{n}.json").read_text(encoding="utf-8")) for n in
             ("shipped_int8", "shipped_fp32", "unpruned_int8", "unpruned_fp32") if (eval_dir / f"{n}.json").exists()}
    sizes = {p.name: p.stat().st_size for p in model.iterdir() if p.is_file() and p.name != "MODEL_CARD.md"}
    cfg = meta["config"]
    out = [f"# Text model card: `{meta['version']}`", ""]
    out += [
        "| | |", "|---|---|",
        f"| architecture | character BERT encoder ({cfg['layers']} layers, hidden {cfg['hidden']}, {cfg['heads']} heads, FFN {cfg['ffn']}) "
        f"+ lexicon BMES features ({cfg['n_lex']} inputs) + BiLSTM ({cfg['lstm']} per direction) + CRF over {len(meta['tags'])} BIO tags |",
        f"| window | {meta['max_len']} characters (the engine overlaps windows by 8 characters of context on each side) |",
        f"| vocabulary | {len(meta['vocab'])} characters |",
        "| files | " + ", ".join(f"`{k}` {v / 2**20:.1f} MB" for k, v in sorted(sizes.items())) + f"; total {sum(sizes.values()) / 2**20:.1f} MB |",
        f"| ONNX FP32 vs torch | max abs emission difference {meta['fp32_parity_max_abs_diff']:.1e} (checked at export, three input shapes) |",
        "",
    ]
    out.append(prose.read_text(encoding="utf-8") if prose.exists() else "")
    if "shipped_int8" in evals:
        out += ["", "## Quality of the shipped model (INT8)", "", markdown(evals["shipped_int8"])]
    cols = [c for c in ("unpruned_fp32", "unpruned_int8", "shipped_fp32", "shipped_int8") if c in evals]
    if cols:
        srcs = list(evals[cols[0]]["sources"])
        out += ["", "## Compression: before/after pruning, FP32 vs INT8 (strict micro-F1, test splits)", "",
                "| source | " + " | ".join(cols) + " |", "|---|" + "---:|" * len(cols)]
        for s in srcs:
            out.append(f"| {s} | " + " | ".join(_f1(evals[c], s) for c in cols) + " |")
        out.append("")
        out.append("`unpruned` is the trained student; `shipped` is the same model after FFN channel pruning "
                   "(torch-pruning) and a short fine-tune. Evaluated by `python -m tcm_desktop.training.evaluate` on each.")
    abl = eval_dir / "ablations.md"
    if abl.exists():
        out += ["", "## Ablations and training recipes (equal step budgets, same data and seed, torch FP32, test splits)", "", abl.read_text(encoding="utf-8")]
        kd = eval_dir / "ablations_pruned_kd.md"
        if kd.exists():
            out += ["", "Distillation while fine-tuning the pruned model (FFN 384) from the unpruned student as teacher, against the "
                    "shipped fine-tune without it (both 382 steps from the same pruned weights):", "", kd.read_text(encoding="utf-8")]
        reading = prose.with_name("model_card_ablations.md")
        if reading.exists():
            out += ["", reading.read_text(encoding="utf-8")]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", type=Path, default=Path("models/ner"))
    ap.add_argument("--eval-dir", type=Path, required=True)
    ap.add_argument("--prose", type=Path, default=Path("docs/model_card_text.md"))
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    args.out.write_text(build(args.model, args.eval_dir, args.prose), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
