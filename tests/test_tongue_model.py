"""The shipped tongue model (models/tongue): integrity, recorded INT8 parity, quality on
held-out photos (speed is measured by `python -m tcm_desktop.training.tongue.report --engine-check`, not in tests). Skips when the model has not been exported yet."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from tcm_desktop.config import models_dir
from tcm_desktop.tongue.engine import ARTIFACT_FILES, model_available

MODEL = models_dir() / "tongue"
pytestmark = pytest.mark.skipif(not model_available(MODEL), reason=f"tongue model not exported yet at {MODEL} (see docs/tongue.md)")


def test_meta_and_int8_parity_recorded():
    meta = json.loads((MODEL / ARTIFACT_FILES["meta"]).read_text(encoding="utf-8"))
    assert meta["fp32_parity_max_abs_diff"] < 1e-3
    assert meta["int8_parity"]["mask_dice_int8_vs_fp32"] >= 0.95
    assert meta["int8_parity"]["attr_argmax_agreement"] >= 0.85
    size = sum(p.stat().st_size for p in MODEL.iterdir() if p.is_file())
    assert size < 8 * 2**20, "models/tongue should stay a few MB"


def _test_photos(shared_data, n=4):
    from tcm_desktop.training.tongue.data import make_splits

    s = make_splits()
    out = []
    for src in ("biohit300", "ianmackenzie_seg741"):
        ids = sorted(i for i, sp in s[src].items() if sp == "test")[:n]
        for i in ids:
            img = next((shared_data / "tongue" / src / "images").glob(i + ".*"))
            out.append((img, shared_data / "tongue" / src / "masks" / f"{i}.png"))
    return out


def test_masks_on_held_out_photos(shared_data, tmp_path):
    from tcm_desktop.tongue import analyse_images

    pairs = _test_photos(shared_data)
    res = analyse_images([p for p, _ in pairs], masks_dir=tmp_path, model_dir=MODEL)
    dices = []
    for (img, gt), _r in zip(pairs, res):
        pred = np.asarray(Image.open(tmp_path / f"{img.stem}.png")) > 127
        g = np.asarray(Image.open(gt).convert("L")) > 127
        assert pred.shape == g.shape
        dices.append(2 * (pred & g).sum() / max(1, pred.sum() + g.sum()))
    assert np.mean(dices) > 0.8, dices
    assert sum(r["ok"] for r in res) >= len(res) // 2
