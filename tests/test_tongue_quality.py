"""The image-quality gate on synthetic tongue photos (no model needed)."""

from __future__ import annotations

import cv2
import numpy as np

from tcm_desktop.tongue import quality
from tcm_desktop.tongue.preprocess import largest_component, letterbox, unletterbox


def _scene(h=300, w=400, scale=1.0):
    rng = np.random.default_rng(0)
    img = np.full((h, w, 3), 60, np.uint8)
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (w // 2, h // 2), (int(90 * scale), int(110 * scale)), 0, 0, 360, 1, -1)
    tex = rng.normal(0, 25, (h, w, 1))
    tongue = np.clip(np.array([190, 100, 110]) + tex, 0, 255)
    img = np.where(mask[..., None] > 0, tongue, img).astype(np.uint8)
    return img, mask.astype(bool)


def test_good_photo_passes():
    img, m = _scene()
    q = quality.check(img, m, 0.95)
    assert q.ok, q


def test_no_tongue():
    img, m = _scene()
    assert quality.check(img, np.zeros_like(m), 0.0).message.startswith("no tongue")
    assert quality.check(img, m, 0.3).message.startswith("no tongue")  # not confident


def test_too_small():
    img, m = _scene(scale=0.25)
    q = quality.check(img, m, 0.95)
    assert not q.ok and "too small" in q.message


def test_blurred():
    img, m = _scene()
    q = quality.check(cv2.GaussianBlur(img, (0, 0), 5), m, 0.95)
    assert not q.ok and "blurred" in q.message


def test_over_and_under_exposed():
    img, m = _scene()
    bright = np.clip(img.astype(np.float32) * 3 + 60, 0, 255).astype(np.uint8)
    dark = (img.astype(np.float32) * 0.12).astype(np.uint8)
    assert "over-exposed" in quality.check(bright, m, 0.95).message
    assert "under-exposed" in quality.check(dark, m, 0.95).message


def test_letterbox_roundtrip():
    img, m = _scene(123, 301)
    sq, box = letterbox(img, 160)
    assert sq.shape == (160, 160, 3)
    msq, _ = letterbox(m.astype(np.uint8), 160, interp_mask=True)
    back = unletterbox(msq.astype(np.float32), box) > 0.5
    assert back.shape == m.shape
    inter = (back & m).sum()
    assert 2 * inter / (back.sum() + m.sum()) > 0.95


def test_largest_component_fills_holes():
    m = np.zeros((50, 50), bool)
    m[5:30, 5:30] = True
    m[10:15, 10:15] = False  # a hole
    m[40:45, 40:45] = True  # a speck
    out = largest_component(m)
    assert out[12, 12] and not out[42, 42]


def test_tongue_likeness_refuses_regions_that_are_not_tongue_shaped_or_coloured():
    h, w = 240, 320
    yy, xx = np.mgrid[0:h, 0:w]
    oval = ((xx - 160) / 70.0) ** 2 + ((yy - 120) / 90.0) ** 2 < 1
    img = np.full((h, w, 3), 40, np.uint8)
    img[oval] = (200, 90, 100)  # a pink-red tongue-like oval
    assert quality.tongue_likeness(img, oval, 0.98)["like"]
    assert not quality.tongue_likeness(img, oval, 0.90)["like"]  # the segmentation is not sure
    blue = img.copy()
    blue[oval] = (60, 80, 200)
    assert not quality.tongue_likeness(blue, oval, 0.98)["like"]  # not red/pink
    full = np.ones((h, w), bool)
    assert not quality.tongue_likeness(np.full((h, w, 3), (200, 90, 100), np.uint8), full, 0.98)["like"]  # the frame
    ragged = oval & ((xx // 8 + yy // 8) % 2 == 0)
    q = quality.check(img, ragged | (oval & (yy < 60)), 0.98, likeness=True)
    assert not q.ok and q.reason == "no_tongue"


def test_the_engine_refuses_a_fractal_and_a_plain_colour_as_no_tongue():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from tongue_no_tongue import generated

    from tcm_desktop.tongue.engine import TongueEngine

    engine = TongueEngine()
    images = dict(generated(64, seed=3))  # one of each kind (the last of each kind)
    for kind in ("fractal", "plain", "noise"):
        res, _ = engine.analyse_rgb(images[kind])
        assert not res["ok"] and res["reason"] == "no_tongue", (kind, res.get("quality"))
