"""How well the tongue panel's "no tongue in this photo" check separates tongue photos from other images.

    TCM_DATA_DIR=/work/shared/data python benchmarks/tongue_no_tongue.py [--per-source 40] [--generated 120] [--json OUT]

Tongue photos: ``--per-source`` images of the held-out *test split* of each
shared source (biohit300, ianmackenzie_seg741, tonguexpert; the model never
trained on them), leaving out the first ``--offset`` photos by name: the
thresholds were set on the first 20 of each and on the generated images of
seed 0, so the defaults measure on other images. Non-tongue images are
generated here, of many kinds, with a fixed seed: plain colours (reds and pinks
included), gradients, noise, fractals (Julia sets coloured like flesh), random
shapes, stripes and checkerboards, a skin-coloured blob. Each image goes
through the shipped engine (``TongueEngine.analyse_rgb``); an image counts as
*accepted* when the engine returns findings (``ok``). False-accept rate: share
of non-tongue images accepted; false-reject rate: share of tongue photos refused
for any reason (blur and exposure refusals included). Prints per-kind counts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SOURCES = ("biohit300", "ianmackenzie_seg741", "tonguexpert")


def generated(n: int, seed: int = 0, size: tuple[int, int] = (480, 640)) -> list[tuple[str, np.ndarray]]:
    """``n`` non-tongue RGB images, ``n // 8`` of each kind."""
    rng = np.random.default_rng(seed)
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out: list[tuple[str, np.ndarray]] = []
    k = max(1, n // 8)
    for _ in range(k):
        c = rng.integers(0, 256, 3) if rng.random() < 0.5 else np.array([rng.integers(150, 256), rng.integers(40, 140),
                                                                        rng.integers(60, 160)])
        out.append(("plain", np.broadcast_to(c, (h, w, 3)).astype(np.uint8).copy()))
    for _ in range(k):
        a, b = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        t = (xx / w * rng.random() + yy / h * rng.random())[..., None]
        t = t / max(float(t.max()), 1e-6)
        out.append(("gradient", (a * (1 - t) + b * t).astype(np.uint8)))
    for _ in range(k):
        out.append(("noise", rng.integers(0, 256, (h, w, 3)).astype(np.uint8)))
    for _ in range(k):
        c = complex(rng.uniform(-0.8, 0.4), rng.uniform(-0.7, 0.7))
        z = (xx - w / 2) / (w / 3) + 1j * (yy - h / 2) / (h / 3)
        it = np.zeros((h, w), np.float32)
        alive = np.ones((h, w), bool)
        for i in range(40):
            z[alive] = z[alive] ** 2 + c
            esc = alive & (np.abs(z) > 2)
            it[esc] = i
            alive &= ~esc
        t = (it / 40.0)[..., None]
        flesh = np.array([200, 90, 100]) * (1 - t) + np.array([250, 220, 200]) * t
        out.append(("fractal", flesh.astype(np.uint8)))
    for _ in range(k):
        img = np.full((h, w, 3), rng.integers(0, 256, 3), np.uint8)
        for _s in range(12):
            x0, y0 = rng.integers(0, w), rng.integers(0, h)
            r = rng.integers(10, 120)
            m = (xx - x0) ** 2 + (yy - y0) ** 2 < r * r
            img[m] = rng.integers(0, 256, 3)
        out.append(("shapes", img))
    for _ in range(k):
        p = rng.integers(8, 64)
        m = ((xx // p + yy // p) % 2).astype(bool) if rng.random() < 0.5 else ((xx // p) % 2).astype(bool)
        img = np.where(m[..., None], rng.integers(0, 256, 3), rng.integers(0, 256, 3)).astype(np.uint8)
        out.append(("pattern", img))
    for _ in range(k):
        img = np.full((h, w, 3), rng.integers(0, 256, 3), np.uint8)
        m = ((xx - w / 2) / (w * rng.uniform(0.15, 0.35))) ** 2 + ((yy - h / 2) / (h * rng.uniform(0.2, 0.4))) ** 2 < 1
        img[m] = [rng.integers(190, 240), rng.integers(120, 170), rng.integers(100, 150)]  # a skin-coloured blob
        out.append(("skin_blob", img))
    for _ in range(k):
        base = rng.integers(0, 256, (h // 16, w // 16, 3)).astype(np.uint8)
        import cv2

        out.append(("blurred_noise", cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC)))
    return out[:n] if len(out) > n else out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-source", type=int, default=40)
    ap.add_argument("--offset", type=int, default=20,
                    help="skip this many photos per source by name (the first 20 were used to set the thresholds)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the generated images (seed 0 set the thresholds)")
    ap.add_argument("--generated", type=int, default=120)
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    from tcm_desktop.config import data_dir
    from tcm_desktop.tongue.engine import TongueEngine
    from tcm_desktop.tongue.imageio import load_image
    from tcm_desktop.training.tongue.data import list_images, make_splits  # numpy/cv2 only, no torch

    engine = TongueEngine()
    splits = make_splits()
    rows = []
    for src in SOURCES:
        names = sorted((data_dir() / "tongue" / src / "images").iterdir())
        tuning = {p.stem for p in names[: args.offset]}
        paths = [p for i, p, _ in list_images(src) if splits[src].get(i) == "test" and i not in tuning]
        paths = paths[: args.per_source]
        for p in paths:
            res, _ = engine.analyse_rgb(load_image(p).rgb)
            rows.append({"kind": src, "tongue": True, "ok": res["ok"], "reason": res["reason"],
                         "quality": res.get("quality", {})})
    for kind, rgb in generated(args.generated, seed=args.seed):
        res, _ = engine.analyse_rgb(rgb)
        rows.append({"kind": kind, "tongue": False, "ok": res["ok"], "reason": res["reason"],
                     "quality": res.get("quality", {})})
    tongues = [r for r in rows if r["tongue"]]
    others = [r for r in rows if not r["tongue"]]
    summary = {
        "offset": args.offset, "seed": args.seed,
        "tongue_photos": len(tongues), "non_tongue_images": len(others),
        "false_reject_rate": round(sum(not r["ok"] for r in tongues) / max(1, len(tongues)), 3),
        "false_accept_rate": round(sum(r["ok"] for r in others) / max(1, len(others)), 3),
        "by_kind": {},
    }
    for kind in dict.fromkeys(r["kind"] for r in rows):
        rs = [r for r in rows if r["kind"] == kind]
        reasons: dict[str, int] = {}
        for r in rs:
            reasons[str(r["reason"])] = reasons.get(str(r["reason"]), 0) + 1
        summary["by_kind"][kind] = {"n": len(rs), "accepted": sum(r["ok"] for r in rs), "reasons": reasons}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": summary, "rows": rows}, ensure_ascii=False, indent=1),
                                   encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
