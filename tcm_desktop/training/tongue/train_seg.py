"""Train TongueNet (mask + attributes) on the shared tongue data, on CPU, within a wall-clock budget.

    python -m tcm_desktop.training.tongue.train_seg --out runs/tongue/main --minutes 25
    python -m tcm_desktop.training.tongue.train_seg --out runs/tongue/xsrc_biohit \
        --sources tonguexpert ianmackenzie_seg741 --no-attr --minutes 10      # cross-source run

Segmentation loss: BCE + soft Dice on every image; attribute loss: weighted
cross-entropy on TonguExpert images (human L1 labels weight 1, weak L2 labels
weight 1/3; the L1 test images are never seen). Batches mix the sources
(TonguExpert 60%, the two photo sets 20% each, renormalised over ``--sources``).
Augmentation: horizontal flip, random scale/shift, mild brightness (no hue change:
colour is a label).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from tcm_desktop.training.tongue.data import ATTRS, SOURCES, Cache, load_cache
from tcm_desktop.training.tongue.models import TongueNet

SOURCE_WEIGHT = {"tonguexpert": 0.6, "biohit300": 0.2, "ianmackenzie_seg741": 0.2}


def augment(x: torch.Tensor, m: torch.Tensor, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """x: N x 3 x S x S float 0..255, m: N x 1 x S x S float 0/1."""
    n = x.shape[0]
    flip = torch.from_numpy(rng.random(n) < 0.5)
    x = torch.where(flip.view(-1, 1, 1, 1), x.flip(-1), x)
    m = torch.where(flip.view(-1, 1, 1, 1), m.flip(-1), m)
    s = torch.from_numpy(rng.uniform(0.8, 1.25, n)).float()
    tx = torch.from_numpy(rng.uniform(-0.12, 0.12, n)).float()
    ty = torch.from_numpy(rng.uniform(-0.12, 0.12, n)).float()
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = 1 / s
    theta[:, 1, 1] = 1 / s
    theta[:, 0, 2] = tx
    theta[:, 1, 2] = ty
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    m = (F.grid_sample(m, grid, mode="bilinear", padding_mode="zeros", align_corners=False) > 0.5).float()
    gain = torch.from_numpy(rng.uniform(0.9, 1.1, n)).float().view(-1, 1, 1, 1)
    return (x * gain).clamp(0, 255), m


def seg_loss(logits: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    bce = F.binary_cross_entropy_with_logits(logits, m)
    p = torch.sigmoid(logits)
    inter = (p * m).sum((1, 2, 3))
    dice = 1 - (2 * inter + 1) / (p.sum((1, 2, 3)) + m.sum((1, 2, 3)) + 1)
    return bce + dice.mean()


def class_weights(c: Cache, split: str = "train") -> torch.Tensor:
    """4 x 3 per-class weights, inverse square root of the training-target frequency (mean 1)."""
    idx = c.index("tonguexpert", split)
    out = torch.ones(c.attr.shape[1], 3)
    for k in range(c.attr.shape[1]):
        y = c.attr[idx, k]
        n = np.bincount(y[y >= 0], minlength=3).astype(np.float64) + 1
        w = n ** -0.5
        out[k] = torch.from_numpy(w / w.mean()).float()
    return out


def attr_loss(attr: torch.Tensor, y: torch.Tensor, w: torch.Tensor, cw: torch.Tensor | None = None) -> torch.Tensor:
    """attr N x 4 x 3 logits, y N x 4 (-1 = none), w N x 4, cw optional 4 x 3 class weights."""
    ce = F.cross_entropy(attr.reshape(-1, attr.shape[-1]), y.reshape(-1).clamp_min(0), reduction="none")
    if cw is not None:
        w = w * cw.gather(1, y.clamp_min(0).T).T
    w = w.reshape(-1) * (y.reshape(-1) >= 0)
    return (ce * w).sum() / w.sum().clamp_min(1.0)


def batch_tensors(c: Cache, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    x = torch.from_numpy(c.images[idx]).permute(0, 3, 1, 2).float()
    m = torch.from_numpy(c.masks[idx]).unsqueeze(1).float()
    return x, m, torch.from_numpy(c.attr[idx]), torch.from_numpy(c.attr_w[idx])


class Sampler:
    """Mixes the sources; a third of the TonguExpert draws are images with a human (L1) label."""

    def __init__(self, c: Cache, sources: list[str], split: str, rng: np.random.Generator):
        self.pools = {s: c.index(s, split) for s in sources}
        weight = {s: SOURCE_WEIGHT[s] for s in sources}
        if "tonguexpert" in self.pools:
            te = self.pools.pop("tonguexpert")
            human = (c.attr_w[te] == 1.0).any(1)
            self.pools["tonguexpert"], self.pools["tonguexpert_l1"] = te[~human], te[human]
            weight["tonguexpert_l1"] = weight["tonguexpert"] / 3
            weight["tonguexpert"] = weight["tonguexpert"] * 2 / 3
        self.pools = {s: p for s, p in self.pools.items() if len(p)}
        tot = sum(weight[s] for s in self.pools)
        self.p = np.array([weight[s] / tot for s in self.pools])
        self.keys = list(self.pools)
        self.rng = rng

    def __call__(self, n: int) -> np.ndarray:
        src = self.rng.choice(len(self.keys), size=n, p=self.p)
        return np.array([self.rng.choice(self.pools[self.keys[k]]) for k in src])


def train_loop(model: TongueNet, c: Cache, *, sources: list[str], minutes: float, batch: int, lr: float,
               use_attr: bool, seed: int = 0, log=print, max_steps: int | None = None, attr_weight: float = 0.5) -> dict:
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    sampler = Sampler(c, sources, "train", rng)
    cw = class_weights(c)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    t0 = time.time()
    budget = minutes * 60
    step, hist = 0, []
    model.train()
    while True:
        el = time.time() - t0
        if el > budget or (max_steps is not None and step >= max_steps):
            break
        frac = min(1.0, el / budget) if max_steps is None else step / max_steps
        for g in opt.param_groups:  # warm-up then cosine, by elapsed time
            g["lr"] = lr * min(1.0, (step + 1) / 30) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        idx = sampler(batch)
        x, m, y, w = batch_tensors(c, idx)
        x, m = augment(x, m, rng)
        logits, attr = model(x)
        loss = seg_loss(logits, m)
        la = attr_loss(attr, y, w, cw) if use_attr else torch.zeros(())
        total = loss + attr_weight * la
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
        hist.append((float(loss.detach()), float(la.detach())))
        step += 1
        if step % 50 == 0:
            a = np.mean(hist[-50:], 0)
            log(f"step {step} t={el / 60:.1f}m seg={a[0]:.4f} attr={a[1]:.4f}")
    model.eval()
    return {"steps": step, "seconds": round(time.time() - t0, 1)}


def save_run(model: TongueNet, out: Path, conf: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), out / "model.pt")
    (out / "config.json").write_text(json.dumps(conf, indent=1), encoding="utf-8")


def load_run(run: Path) -> tuple[TongueNet, dict]:
    conf = json.loads((run / "config.json").read_text(encoding="utf-8"))
    if (run / "pruned.pt").exists():
        model = torch.load(run / "pruned.pt", map_location="cpu", weights_only=False)
    else:
        model = TongueNet(conf["size"], pretrained=False)
        model.load_state_dict(torch.load(run / "model.pt", map_location="cpu", weights_only=True))
    model.eval()
    return model, conf


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--minutes", type=float, required=True, help="wall-clock training budget")
    ap.add_argument("--size", type=int, default=160)
    ap.add_argument("--sources", nargs="+", default=list(SOURCES), choices=SOURCES)
    ap.add_argument("--no-attr", action="store_true")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    c = load_cache(args.size)
    model = TongueNet(args.size, pretrained=True)
    args.out.mkdir(parents=True, exist_ok=True)
    logf = open(args.out / "train.log", "a", encoding="utf-8")

    def log(s: str) -> None:
        print(s, flush=True)
        logf.write(s + "\n")
        logf.flush()

    info = train_loop(model, c, sources=args.sources, minutes=args.minutes, batch=args.batch, lr=args.lr,
                      use_attr=not args.no_attr, seed=args.seed, log=log)
    conf = {"size": args.size, "sources": args.sources, "attr": not args.no_attr, "attrs": list(ATTRS),
            "minutes": args.minutes, "batch": args.batch, "lr": args.lr, **info, "argv": sys.argv[1:]}
    save_run(model, args.out, conf)
    log(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
