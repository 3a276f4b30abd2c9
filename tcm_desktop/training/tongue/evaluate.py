"""Metrics and evaluation of tongue models (torch or ONNX) on the fixed held-out splits.

    python -m tcm_desktop.training.tongue.evaluate --run runs/tongue/main [--split test] [--onnx models/tongue/tongue.int8.onnx]

Segmentation: Dice and IoU per image (threshold 0.5 at the model resolution,
letterboxed), averaged per source. Attributes: only the human L1 labels of the
chosen TonguExpert split; macro-F1 and balanced accuracy with bootstrap 95%
intervals (1000 resamples, seed 0). Fissure and tooth marks: L1 has no
"none" value (NA is ambiguous), so they are scored as light vs severe on the
images a human labelled, taking the model's more likely of those two classes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tcm_desktop.training.cli_args import emit_report
from tcm_desktop.training.tongue.data import ATTRS, CLASSES, SOURCES, Cache, load_cache

Predict = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # uint8 N x S x S x 3 -> (prob N x S x S, attr logits N x 4 x 3)


def dice_iou(pred: np.ndarray, gt: np.ndarray) -> tuple[float, float]:
    p, g = pred.astype(bool), gt.astype(bool)
    inter = np.logical_and(p, g).sum()
    ps, gs = p.sum(), g.sum()
    union = ps + gs - inter
    dice = 1.0 if ps + gs == 0 else 2 * inter / (ps + gs)
    iou = 1.0 if union == 0 else inter / union
    return float(dice), float(iou)


def confusion(y: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    cm = np.zeros((k, k), np.int64)
    np.add.at(cm, (y, p), 1)
    return cm


def macro_f1(y: np.ndarray, p: np.ndarray, classes: list[int]) -> float:
    f1s = []
    for c in classes:
        if not (np.any(y == c) or np.any(p == c)):
            continue  # a class absent from a bootstrap resample and never predicted
        tp = np.sum((y == c) & (p == c))
        fp = np.sum((y != c) & (p == c))
        fn = np.sum((y == c) & (p != c))
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s)) if f1s else 0.0


def balanced_accuracy(y: np.ndarray, p: np.ndarray, classes: list[int]) -> float:
    rec = [np.mean(p[y == c] == c) for c in classes if np.any(y == c)]
    return float(np.mean(rec))


def bootstrap(y: np.ndarray, p: np.ndarray, classes: list[int], n: int = 1000, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    f1, ba = [], []
    for _ in range(n):
        i = rng.integers(0, len(y), len(y))
        f1.append(macro_f1(y[i], p[i], classes))
        ba.append(balanced_accuracy(y[i], p[i], classes))
    return {
        "macro_f1": round(macro_f1(y, p, classes), 4),
        "macro_f1_ci95": [round(float(np.percentile(f1, 2.5)), 4), round(float(np.percentile(f1, 97.5)), 4)],
        "balanced_accuracy": round(balanced_accuracy(y, p, classes), 4),
        "balanced_accuracy_ci95": [round(float(np.percentile(ba, 2.5)), 4), round(float(np.percentile(ba, 97.5)), 4)],
        "n": int(len(y)),
    }


def eval_classes(attr: str) -> list[int]:
    return [0, 1, 2] if attr in ("coating_colour", "body_colour") else [1, 2]


def decide(attr: str, logits: np.ndarray) -> np.ndarray:
    """Class decisions for evaluation against L1 (light/severe only for fissure/tooth marks)."""
    if attr in ("coating_colour", "body_colour"):
        return logits.argmax(-1)
    return 1 + logits[:, 1:].argmax(-1)


def attribute_report(c: Cache, idx: np.ndarray, logits: np.ndarray, n_boot: int = 1000) -> dict:
    """logits: len(idx) x 4 x 3 for the images ``idx``."""
    out = {}
    for k, a in enumerate(ATTRS):
        y = c.l1[idx, k]
        ok = y >= 0
        if a in ("fissure", "tooth_marks"):
            ok &= y > 0
        yy = y[ok]
        pp = decide(a, logits[ok, k])
        r = bootstrap(yy, pp, eval_classes(a), n=n_boot)
        r["confusion"] = confusion(yy, pp, 3).tolist()
        r["classes"] = list(CLASSES[a])
        if a in ("fissure", "tooth_marks"):
            r["scored_as"] = "light vs severe (L1 has no 'none')"
            r["share_predicted_none_3way"] = round(float(np.mean(logits[ok, k].argmax(-1) == 0)), 4)
        out[a] = r
    out["mean_macro_f1"] = round(float(np.mean([out[a]["macro_f1"] for a in ATTRS])), 4)
    return out


def seg_report(c: Cache, idx: np.ndarray, probs: np.ndarray) -> dict:
    out = {}
    for s in SOURCES:
        sel = [j for j, i in enumerate(idx) if c.sources[i] == s]
        if not sel:
            continue
        d = np.array([dice_iou(probs[j] > 0.5, c.masks[idx[j]]) for j in sel])
        out[s] = {"dice": round(float(d[:, 0].mean()), 4), "iou": round(float(d[:, 1].mean()), 4), "n": len(sel)}
    if out:
        out["mean_dice_over_sources"] = round(float(np.mean([v["dice"] for v in out.values()])), 4)
    return out


def run_predict(predict: Predict, c: Cache, idx: np.ndarray, batch: int = 32) -> tuple[np.ndarray, np.ndarray]:
    probs, logits = [], []
    for i in range(0, len(idx), batch):
        p, a = predict(c.images[idx[i : i + batch]])
        probs.append(p)
        logits.append(a)
    return np.concatenate(probs), np.concatenate(logits)


def torch_predictor(model, size: int | None = None) -> Predict:
    import torch
    import torch.nn.functional as F

    def predict(imgs: np.ndarray):
        x = torch.from_numpy(imgs).permute(0, 3, 1, 2).float()
        s0 = x.shape[-1]
        if size and size != s0:
            x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
        with torch.no_grad():
            lg, at = model(x)
        if size and size != s0:
            lg = F.interpolate(lg, size=(s0, s0), mode="bilinear", align_corners=False)
        return torch.sigmoid(lg)[:, 0].numpy(), at.numpy()

    return predict


def onnx_predictor(path: Path, threads: int = 1) -> Predict:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.log_severity_level = 3
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])

    def predict(imgs: np.ndarray):
        ps, ats = [], []
        for im in imgs:  # the exported graph has batch 1
            x = np.ascontiguousarray(im.transpose(2, 0, 1)[None].astype(np.float32))
            lg, at = sess.run(None, {"image": x})
            ps.append(1 / (1 + np.exp(-lg[0, 0])))
            ats.append(at[0])
        return np.stack(ps), np.stack(ats)

    return predict


def evaluate(predict: Predict, c: Cache, split: str = "test", sources=SOURCES, attrs: bool = True, n_boot: int = 1000) -> dict:
    idx = np.concatenate([c.index(s, split) for s in sources])
    probs, logits = run_predict(predict, c, idx)
    rep = {"split": split, "segmentation": seg_report(c, idx, probs)}
    if attrs:
        te = np.array([j for j, i in enumerate(idx) if c.sources[i] == "tonguexpert" and (c.l1[i] >= 0).any()])
        if len(te):
            rep["attributes"] = attribute_report(c, idx[te], logits[te], n_boot=n_boot)
    return rep


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, help="training run (torch)")
    ap.add_argument("--onnx", type=Path, help="evaluate an exported ONNX model instead")
    ap.add_argument("--split", default="test", choices=("val", "test"))
    ap.add_argument("--sources", nargs="+", default=list(SOURCES))
    ap.add_argument("--all-images-of", help="evaluate on every image of this source (cross-source test)")
    ap.add_argument("--no-attr", action="store_true")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--size", type=int, default=160)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    c = load_cache(args.size)
    if args.onnx:
        predict = onnx_predictor(args.onnx)
    else:
        from tcm_desktop.training.tongue.train_seg import load_run

        model, _ = load_run(args.run)
        predict = torch_predictor(model)
    if args.all_images_of:
        idx = c.index(args.all_images_of)
        probs, logits = run_predict(predict, c, idx)
        rep = {"split": f"all images of {args.all_images_of}", "segmentation": seg_report(c, idx, probs)}
    else:
        rep = evaluate(predict, c, args.split, args.sources, attrs=not args.no_attr)
    return emit_report(rep, "tcm_desktop.training.tongue.evaluate", argv, args.out, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    sys.exit(main())


def engine_latency(model_dir: Path, photos: list[Path], repeats: int = 3, threads: int | None = None) -> dict:
    """Full runtime pipeline per photo (decode, two passes, quality gate, mask PNG written)."""
    import tempfile
    import time

    from tcm_desktop.tongue.engine import TongueEngine

    eng = TongueEngine(model_dir, threads=threads)
    eng.analyse_path(photos[0])
    ts = []
    with tempfile.TemporaryDirectory() as d:
        for p in photos:
            best = float("inf")
            for _ in range(repeats):
                t = time.perf_counter()
                eng.analyse_path(p, masks_dir=d)
                best = min(best, time.perf_counter() - t)
            ts.append(best * 1000)
    return {"median_ms": round(float(np.median(ts)), 2), "p95_ms": round(float(np.percentile(ts, 95)), 2), "max_ms": round(float(np.max(ts)), 2),
            "n_photos": len(photos), "threads": eng.session.get_session_options().intra_op_num_threads, "statistic": f"best of {repeats} per photo"}


def engine_check(model_dir: Path, split: str = "test") -> dict:
    """Run the shipped runtime on the held-out BioHit and ianmackenzie photos at full size:
    Dice of the written masks against the ground truth, share refused by the quality gate, latency."""
    import tempfile

    from PIL import Image

    from tcm_desktop.tongue.engine import analyse_images
    from tcm_desktop.training.tongue.data import list_images, make_splits

    s = make_splits()
    out: dict = {"split": split}
    photos = []
    for src in ("biohit300", "ianmackenzie_seg741", "tonguexpert"):
        items = [(i, ip, mp) for i, ip, mp in list_images(src) if s[src][i] == split]
        if src == "tonguexpert":
            items = items[:100]
        with tempfile.TemporaryDirectory() as d:
            res = analyse_images([ip for _, ip, _ in items], masks_dir=d, model_dir=model_dir)
            dice = []
            for _i, ip, mp in items:
                pred = np.asarray(Image.open(Path(d) / f"{ip.stem}.png")) > 127
                gt = np.asarray(Image.open(mp).convert("L")) > 127
                dice.append(dice_iou(pred, gt)[0])
        refused: dict[str, int] = {}
        for r in res:
            if not r["ok"]:
                refused[r["message"]] = refused.get(r["message"], 0) + 1
        out[src] = {"n": len(items), "mask_dice_full_res": round(float(np.mean(dice)), 4), "refused": refused}
        photos += [ip for _, ip, _ in items[:15]]
    out["latency"] = engine_latency(model_dir, photos)
    return out
