"""Bad tongue images give a clear message, never a crash (no model needed)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from tcm_desktop.tongue.imageio import MAX_PIXELS, load_image


def _photo(h=120, w=160) -> np.ndarray:
    rng = np.random.default_rng(0)
    a = np.zeros((h, w, 3), np.uint8)
    a[..., 0] = 180
    a[..., 1] = 90
    a[..., 2] = 100
    return np.clip(a + rng.integers(-20, 20, a.shape), 0, 255).astype(np.uint8)


def test_rgb_jpeg_loads(tmp_path):
    p = tmp_path / "a.jpg"
    Image.fromarray(_photo()).save(p, quality=90)
    r = load_image(p)
    assert r.message is None and r.rgb.shape == (120, 160, 3) and r.size == (160, 120) and not r.grayscale


def test_truncated(tmp_path):
    p = tmp_path / "t.jpg"
    Image.fromarray(_photo(400, 400)).save(p, quality=90)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 3])
    r = load_image(p)
    assert r.rgb is None and "truncated" in r.message


def test_not_an_image(tmp_path):
    p = tmp_path / "x.png"
    p.write_text("this is not an image")
    r = load_image(p)
    assert r.rgb is None and "not an image" in r.message


def test_missing_file(tmp_path):
    r = load_image(tmp_path / "nope.jpg")
    assert r.rgb is None and "not found" in r.message


def test_huge_dimensions_refused_before_decoding(tmp_path):
    p = tmp_path / "huge.png"
    Image.new("1", (8000, 6000)).save(p)  # 48 MP, tiny file
    assert 8000 * 6000 > MAX_PIXELS
    r = load_image(p)
    assert r.rgb is None and "too large" in r.message


def test_cmyk_converted(tmp_path):
    p = tmp_path / "c.jpg"
    Image.fromarray(_photo()).convert("CMYK").save(p)
    r = load_image(p)
    assert r.message is None and r.rgb.shape == (120, 160, 3) and not r.grayscale


def test_grayscale_flagged(tmp_path):
    p = tmp_path / "g.png"
    Image.fromarray(_photo()).convert("L").save(p)
    r = load_image(p)
    assert r.rgb is not None and r.grayscale


def test_16bit_flagged_as_grayscale(tmp_path):
    p = tmp_path / "s.png"
    a = (np.linspace(0, 65535, 120 * 160).reshape(120, 160)).astype(np.uint16)
    Image.fromarray(a).save(p)
    r = load_image(p)
    assert r.rgb is not None and r.rgb.dtype == np.uint8 and r.rgb.max() > 200 and r.grayscale


def test_rgba_and_palette(tmp_path):
    p = tmp_path / "a.png"
    Image.fromarray(_photo()).convert("RGBA").save(p)
    assert load_image(p).message is None
    q = tmp_path / "p.png"
    Image.fromarray(_photo()).convert("P").save(q)
    assert load_image(q).message is None


def test_tiny_image_refused(tmp_path):
    p = tmp_path / "tiny.png"
    Image.fromarray(_photo(10, 10)).save(p)
    assert "too small" in load_image(p).message


def test_exif_rotation_size(tmp_path):
    p = tmp_path / "r.jpg"
    im = Image.fromarray(_photo())
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90
    im.save(p, exif=exif)
    r = load_image(p)
    assert r.size == (120, 160) and r.rgb.shape[:2] == (160, 120)


@pytest.mark.parametrize("name", ["a.jpg", "a.png"])
def test_zero_byte_file(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(b"")
    r = load_image(p)
    assert r.rgb is None and r.message
