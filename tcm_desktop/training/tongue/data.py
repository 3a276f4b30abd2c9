"""Tongue data: the three shared sources, fixed splits, labels and an in-memory cache.

Sources (under ``data_dir()/tongue``): ``tonguexpert`` (crops, masks, L1 human
labels, L2 model-predicted labels), ``biohit300`` and ``ianmackenzie_seg741``
(photos + masks, no labels).

Splits are deterministic (seed 0):

- TonguExpert: the rows of ``L1_Labels_Manual.txt`` are split stratified by
  their label tuple into test 30% / val 10% / train 60%; the images without L1
  labels go 5% test / 3% val / rest train. Every L1-test image is kept out of
  all training (segmentation, weak L2 labels included).
- BioHit: test 20% / val 10% / train 70%. ianmackenzie: test 15% / val 10% /
  train 75%.

Attribute targets for training: the L1 label where the image has one (train
split only), otherwise the L2 prediction (weak label, weight 1/3 of a human
one). L2 never enters any evaluation.
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from tcm_desktop.config import REPO_ROOT, data_dir
from tcm_desktop.tongue.preprocess import letterbox

SOURCES = ("tonguexpert", "biohit300", "ianmackenzie_seg741")
ATTRS = ("coating_colour", "body_colour", "fissure", "tooth_marks")
CLASSES = {
    "coating_colour": ("white", "light_yellow", "yellow"),
    "body_colour": ("light", "regular", "dark"),
    "fissure": ("none", "light", "severe"),
    "tooth_marks": ("none", "light", "severe"),
}
L1_COLS = {"coating_colour": "labels_tai", "body_colour": "labels_zhi", "fissure": "labels_fissure", "tooth_marks": "labels_tooth_mk"}
L2_COLS = {"coating_colour": "tai_label", "body_colour": "zhi_label", "fissure": "fissure_label", "tooth_marks": "tooth_mk_label"}
CACHE_DIR = REPO_ROOT / "runs" / "tongue" / "cache"


def tongue_root() -> Path:
    return data_dir() / "tongue"


def _read_table(path: Path) -> dict[str, dict[str, str]]:
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    return {r["SID"]: r for r in rows}


def _label_table(root: Path | None, name: str, cols: dict[str, str],
                 value: Callable[[str, str | None], str]) -> dict[str, dict[str, int]]:
    """id -> {attr: class index} from a TonguExpert label file; ``value(attr, cell)`` names the class, and a
    name outside the attribute's classes leaves the attribute absent."""
    t = _read_table((root or tongue_root()) / "tonguexpert" / "labels" / name)
    out: dict[str, dict[str, int]] = {}
    for sid, r in t.items():
        d = {}
        for a, col in cols.items():
            v = value(a, r.get(col))
            if v in CLASSES[a]:
                d[a] = CLASSES[a].index(v)
        out[sid] = d
    return out


def l1_labels(root: Path | None = None) -> dict[str, dict[str, int]]:
    """Human labels: id -> {attr: class index}; NA is absent (for fissure/tooth marks NA is
    ambiguous between "none" and "not annotated", so it is never read as "none")."""
    return _label_table(root, "L1_Labels_Manual.txt", L1_COLS, lambda a, cell: (cell or "NA").strip())


def _l2_value(a: str, cell: str | None) -> str:
    v = (cell or "").strip()
    return "none" if a in ("fissure", "tooth_marks") and v in ("NaN", "NA", "") else v


def l2_labels(root: Path | None = None) -> dict[str, dict[str, int]]:
    """Model-predicted labels (weak; training only). NaN = none for fissure/tooth marks."""
    return _label_table(root, "L2_Labels_Predict.txt", L2_COLS, _l2_value)


def list_images(source: str, root: Path | None = None) -> list[tuple[str, Path, Path]]:
    base = (root or tongue_root()) / source
    items = []
    for p in sorted((base / "images").iterdir()):
        if p.suffix.lower() not in (".jpg", ".jpeg", ".png", ".bmp"):
            continue
        m = base / "masks" / (p.stem + ".png")
        if m.exists():
            items.append((p.stem, p, m))
    return items


def _stratified(ids_by_key: dict[tuple, list[str]], fracs: tuple[float, float], rng: np.random.Generator) -> tuple[set, set]:
    """Split each stratum into (test, val) by fractions, remainder train (returned implicitly)."""
    test, val = set(), set()
    carry_t = carry_v = 0.0
    for key in sorted(ids_by_key, key=str):
        ids = sorted(ids_by_key[key])
        rng.shuffle(ids)
        carry_t += len(ids) * fracs[0]
        carry_v += len(ids) * fracs[1]
        nt, nv = int(round(carry_t)), int(round(carry_v))
        nt, nv = min(nt, len(ids)), min(nv, max(0, len(ids) - nt))
        carry_t -= nt
        carry_v -= nv
        test.update(ids[:nt])
        val.update(ids[nt : nt + nv])
    return test, val


def make_splits(root: Path | None = None, seed: int = 0) -> dict[str, dict[str, str]]:
    """source -> {id: "train"|"val"|"test"} (deterministic)."""
    root = root or tongue_root()
    rng = np.random.default_rng(seed)
    splits: dict[str, dict[str, str]] = {}
    te_ids = [i for i, _, _ in list_images("tonguexpert", root)]
    l1 = l1_labels(root)
    strata: dict[tuple, list[str]] = defaultdict(list)
    for sid in te_ids:
        if sid in l1 and l1[sid]:
            strata[tuple(sorted(l1[sid].items()))].append(sid)
    t1, v1 = _stratified(strata, (0.30, 0.10), rng)
    rest = sorted(set(te_ids) - set().union(*strata.values()))
    t2, v2 = _stratified({"rest": rest}, (0.05, 0.03), rng)
    splits["tonguexpert"] = {i: "test" if i in t1 | t2 else "val" if i in v1 | v2 else "train" for i in te_ids}
    for src, (ft, fv) in (("biohit300", (0.20, 0.10)), ("ianmackenzie_seg741", (0.15, 0.10))):
        ids = [i for i, _, _ in list_images(src, root)]
        t, v = _stratified({"all": ids}, (ft, fv), rng)
        splits[src] = {i: "test" if i in t else "val" if i in v else "train" for i in ids}
    return splits


@dataclass
class Cache:
    """All images letterboxed to ``size``: uint8 images/masks plus ids, sources, splits, labels."""

    size: int
    images: np.ndarray  # N x S x S x 3 uint8
    masks: np.ndarray  # N x S x S uint8 (0/1)
    ids: list[str]
    sources: list[str]
    splits: list[str]
    attr: np.ndarray  # N x 4 int64 training target (-1 none)
    attr_w: np.ndarray  # N x 4 float32 weight (human 1, weak 1/3, 0 none)
    l1: np.ndarray  # N x 4 int64 human label or -1 (for evaluation)
    meta: dict = field(default_factory=dict)

    def index(self, source: str | None = None, split: str | None = None) -> np.ndarray:
        ok = np.ones(len(self.ids), bool)
        if source:
            ok &= np.array([s == source for s in self.sources])
        if split:
            ok &= np.array([s == split for s in self.splits])
        return np.nonzero(ok)[0]


def _load_rgb(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise OSError(f"cannot read {path}")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def build_cache(size: int, root: Path | None = None, limit: int | None = None, out: Path | None = None) -> Cache:
    root = root or tongue_root()
    splits = make_splits(root)
    l1, l2 = l1_labels(root), l2_labels(root)
    imgs, masks, ids, srcs, spl, attr, attr_w, l1a = [], [], [], [], [], [], [], []
    for src in SOURCES:
        items = list_images(src, root)
        if limit:  # a small cache for tests: the first ``limit`` images of each split
            items = [it for sp in ("train", "val", "test") for it in [x for x in items if splits[src][x[0]] == sp][:limit]]
        for sid, ip, mp in items:
            im = _load_rgb(ip)
            m = cv2.imread(str(mp), cv2.IMREAD_GRAYSCALE)
            if m.shape[:2] != im.shape[:2]:
                m = cv2.resize(m, (im.shape[1], im.shape[0]), interpolation=cv2.INTER_NEAREST)
            sq, _ = letterbox(im, size)
            msq, _ = letterbox((m > 127).astype(np.uint8), size, interp_mask=True)
            split = splits[src][sid]
            a = np.full(4, -1, np.int64)
            w = np.zeros(4, np.float32)
            h = np.full(4, -1, np.int64)
            if src == "tonguexpert":
                for k, name in enumerate(ATTRS):
                    if name in l1.get(sid, {}):
                        h[k] = l1[sid][name]
                    if split == "test":
                        continue  # never trained on, not even with weak labels
                    if split == "train" and name in l1.get(sid, {}):
                        a[k], w[k] = l1[sid][name], 1.0
                    elif name in l2.get(sid, {}):
                        a[k], w[k] = l2[sid][name], 1.0 / 3.0
            imgs.append(sq)
            masks.append(msq)
            ids.append(sid)
            srcs.append(src)
            spl.append(split)
            attr.append(a)
            attr_w.append(w)
            l1a.append(h)
    c = Cache(size, np.stack(imgs), np.stack(masks), ids, srcs, spl, np.stack(attr), np.stack(attr_w), np.stack(l1a))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        np.savez(out, images=c.images, masks=c.masks, attr=c.attr, attr_w=c.attr_w, l1=c.l1)
        out.with_suffix(".json").write_text(json.dumps({"size": size, "ids": ids, "sources": srcs, "splits": spl}), encoding="utf-8")
    return c


def load_cache(size: int, rebuild: bool = False) -> Cache:
    """The full cache at ``size`` (built on first use under runs/tongue/cache)."""
    path = CACHE_DIR / f"cache_{size}.npz"
    if rebuild or not path.exists() or not path.with_suffix(".json").exists():
        return build_cache(size, out=path)
    z = np.load(path)
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    return Cache(size, z["images"], z["masks"], meta["ids"], meta["sources"], meta["splits"], z["attr"], z["attr_w"], z["l1"])
