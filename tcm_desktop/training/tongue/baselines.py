"""Attribute baselines on the L1 human labels: majority class and colour histogram +
logistic regression (numpy; no scikit-learn).

    python -m tcm_desktop.training.tongue.baselines --out runs/tongue/baselines.json

Features: hue (12 bins), saturation (8) and value (8) histograms plus CIE Lab
mean and standard deviation, all inside the *ground-truth* tongue mask (which
favours the baseline). Multinomial logistic regression with L2 penalty, fitted
on the L1 train split; the penalty is chosen on the L1 val split; scored on the
L1 test split exactly like the network (``evaluate.attribute_report``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from tcm_desktop.training.cli_args import emit_report
from tcm_desktop.training.tongue.data import ATTRS, Cache, load_cache
from tcm_desktop.training.tongue.evaluate import bootstrap, eval_classes


def colour_features(img: np.ndarray, mask: np.ndarray) -> np.ndarray:
    m = mask.astype(bool)
    if m.sum() < 16:
        m = np.ones_like(m)
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)[m].astype(np.float32)
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)[m].astype(np.float32)
    hh = np.histogram(hsv[:, 0], bins=12, range=(0, 180))[0]
    hs = np.histogram(hsv[:, 1], bins=8, range=(0, 256))[0]
    hv = np.histogram(hsv[:, 2], bins=8, range=(0, 256))[0]
    n = float(m.sum())
    return np.concatenate([hh / n, hs / n, hv / n, lab.mean(0) / 255, lab.std(0) / 255]).astype(np.float32)


def fit_logreg(x: np.ndarray, y: np.ndarray, k: int, l2: float, iters: int = 500, lr: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    w = np.zeros((x.shape[1], k))
    b = np.zeros(k)
    yo = np.eye(k)[y]
    cw = len(y) / (k * np.maximum(np.bincount(y, minlength=k), 1))  # class-balanced
    sw = cw[y][:, None]
    for _ in range(iters):
        z = x @ w + b
        z -= z.max(1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(1, keepdims=True)
        g = (p - yo) * sw / len(y)
        w -= lr * (x.T @ g + l2 * w)
        b -= lr * g.sum(0)
    return w, b


def hist_lr_predictions(c: Cache, attr_k: int, classes: list[int]) -> tuple[np.ndarray, np.ndarray, dict]:
    te = c.index("tonguexpert")
    y_all = c.l1[te, attr_k]
    split = np.array([c.splits[i] for i in te])
    use = y_all >= 0
    if len(classes) == 2:
        use &= y_all > 0
    feats = {}
    for s in ("train", "val", "test"):
        sel = te[use & (split == s)]
        feats[s] = (np.stack([colour_features(c.images[i], c.masks[i]) for i in sel]), c.l1[sel, attr_k])
    mu, sd = feats["train"][0].mean(0), feats["train"][0].std(0) + 1e-6
    remap = {cl: j for j, cl in enumerate(classes)}
    ytr = np.array([remap[v] for v in feats["train"][1]])
    best = None
    for l2 in (1e-3, 1e-2, 1e-1, 1.0):
        w, b = fit_logreg((feats["train"][0] - mu) / sd, ytr, len(classes), l2)
        pv = np.array(classes)[(((feats["val"][0] - mu) / sd) @ w + b).argmax(1)]
        from tcm_desktop.training.tongue.evaluate import macro_f1

        f = macro_f1(feats["val"][1], pv, classes)
        if best is None or f > best[0]:
            best = (f, l2, w, b)
    _, l2, w, b = best
    pt = np.array(classes)[(((feats["test"][0] - mu) / sd) @ w + b).argmax(1)]
    return feats["test"][1], pt, {"l2": l2, "n_train": int(len(ytr))}


def l2_reference(c: Cache) -> dict:
    """How the weak L2 labels (another model's predictions) score against L1 on the same test
    images: context for the weak supervision only (that model may have been trained on L1 images)."""
    from tcm_desktop.training.tongue.data import l2_labels

    l2 = l2_labels()
    out = {}
    idx = c.index("tonguexpert", "test")
    for k, a in enumerate(ATTRS):
        classes = eval_classes(a)
        ys, ps = [], []
        for i in idx:
            y = c.l1[i, k]
            if y in classes and a in l2.get(c.ids[i], {}):
                ys.append(y)
                ps.append(l2[c.ids[i]][a])
        out[a] = bootstrap(np.array(ys), np.array(ps), classes)
    return out


def run(c: Cache) -> dict:
    out: dict = {"majority": {}, "hist_logreg": {}}
    te = c.index("tonguexpert", "train")
    for k, a in enumerate(ATTRS):
        classes = eval_classes(a)
        ytr = c.l1[te, k]
        ytr = ytr[np.isin(ytr, classes)]
        maj = int(np.bincount(ytr, minlength=3).argmax())
        yt, pt, info = hist_lr_predictions(c, k, classes)
        out["majority"][a] = {**bootstrap(yt, np.full_like(yt, maj), classes), "majority_class": maj}
        out["hist_logreg"][a] = {**bootstrap(yt, pt, classes), **info}
    out["l2_reference"] = l2_reference(c)
    for m in ("majority", "hist_logreg", "l2_reference"):
        out[m]["mean_macro_f1"] = round(float(np.mean([out[m][a]["macro_f1"] for a in ATTRS])), 4)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--size", type=int, default=160)
    args = ap.parse_args(argv)
    rep = run(load_cache(args.size))
    rep["split"] = "TonguExpert L1 test (human labels)"
    return emit_report(rep, "tcm_desktop.training.tongue.baselines", argv, args.out, indent=1)


if __name__ == "__main__":
    sys.exit(main())
