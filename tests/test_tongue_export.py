"""Export pipeline on a tiny model: dynamo ONNX + parity with torch, static QDQ INT8 + parity
with FP32, checksummed artifact, then the torch-free runtime end to end on it."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def tiny_artifact(shared_data, tmp_path_factory):
    from tcm_desktop.training.tongue.data import SOURCES, build_cache
    from tcm_desktop.training.tongue.export import write_artifact
    from tcm_desktop.training.tongue.models import TongueNet
    from tcm_desktop.training.tongue.train_seg import train_loop

    torch.manual_seed(0)
    torch.set_num_threads(1)
    c = build_cache(64, limit=4)
    m = TongueNet(64)
    train_loop(m, c, sources=list(SOURCES), minutes=1, batch=4, lr=1e-3, use_attr=True, max_steps=1)
    out = tmp_path_factory.mktemp("tongue_model")
    meta = write_artifact(m.eval(), c, out, 64, {"run": "tiny-test"})
    return out, meta


def test_artifact_files_and_parity(tiny_artifact):
    out, meta = tiny_artifact
    names = {p.name for p in out.iterdir()}
    assert {"tongue.int8.onnx", "tongue.json", "SHA256SUMS"} <= names and "tongue.fp32.onnx" not in names
    assert meta["fp32_parity_max_abs_diff"] < 1e-3
    par = meta["int8_parity"]
    assert par["n"] > 0 and par["attr_argmax_agreement"] >= 0.5 and 0 <= par["mask_dice_int8_vs_fp32"] <= 1


def test_runtime_end_to_end(tiny_artifact, shared_data, tmp_path):
    from tcm_desktop.tongue import analyse_images, tongue_text

    out, _ = tiny_artifact
    photo = sorted((shared_data / "tongue" / "biohit300" / "images").iterdir())[0]
    bad = tmp_path / "bad.jpg"
    bad.write_text("not an image")
    gray = tmp_path / "gray.png"
    Image.open(photo).convert("L").save(gray)
    masks = tmp_path / "masks"
    res = analyse_images([photo, bad, gray], masks_dir=masks, model_dir=out)
    assert [r["id"] for r in res] == [photo.stem, "bad", "gray"]
    for r in res:
        assert set(r) >= {"id", "ok", "message", "attributes"}
        assert r["ok"] or r["message"]
        if not r["ok"]:
            assert r["attributes"] == {}
        tongue_text(r)
    assert "not an image" in res[1]["message"] and "grayscale" in res[2]["message"]
    m = np.asarray(Image.open(masks / f"{photo.stem}.png"))
    assert m.shape == np.asarray(Image.open(photo)).shape[:2] and set(np.unique(m)) <= {0, 255}
    assert (masks / "gray.png").exists() and not (masks / "bad.png").exists()


def test_corrupt_model_is_refused(tiny_artifact, tmp_path):
    import shutil

    from tcm_desktop.artifacts import ModelError
    from tcm_desktop.tongue.engine import TongueEngine

    out, _ = tiny_artifact
    bad = tmp_path / "m"
    shutil.copytree(out, bad)
    with open(bad / "tongue.int8.onnx", "r+b") as f:
        f.seek(100)
        f.write(b"\x00\x01\x02")
    with pytest.raises(ModelError, match="checksum"):
        TongueEngine(bad)
    with pytest.raises(ModelError, match="not found"):
        TongueEngine(tmp_path / "absent")
