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
