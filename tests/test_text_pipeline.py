"""The text-model pipeline end to end on a tiny model: train, export, quantize, decode."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tcm_desktop.artifacts import CHECKSUMS, ModelError
from tcm_desktop.text.runtime import NerRuntime, Window


def test_artifact_files_and_checksums(tiny_model_dir) -> None:
    names = {p.name for p in tiny_model_dir.iterdir()}
    assert {"model.int8.onnx", "model.fp32.onnx", "model.json", "lexicon.json", "normalization.json", CHECKSUMS} <= names
    meta = json.loads((tiny_model_dir / "model.json").read_text(encoding="utf-8"))
    assert meta["fp32_parity_max_abs_diff"] < 1e-3
    assert len(meta["tags"]) == 47 and meta["tags"][0] == "O"
    # the term lists travel inside the artifact
    lex = json.loads((tiny_model_dir / "lexicon.json").read_text(encoding="utf-8"))
    assert "柴胡" in lex["terms"]["HERB"]


def test_int8_emissions_track_fp32(tiny_model_dir) -> None:
    fp32 = NerRuntime(tiny_model_dir, precision="fp32")
    int8 = NerRuntime(tiny_model_dir, precision="int8")
    text = "主诉：胃脘胀痛3年。舌淡红，苔薄白，脉弦细。处方：柴胡10g，白芍15g。"
    w = Window(0, 0, fp32.encode(text), fp32.features(text))
    a, b = fp32.emissions([w])[0], int8.emissions([w])[0]
    assert a.shape == b.shape == (len(text), 47)
    agree = (a.argmax(1) == b.argmax(1)).mean()
    assert agree > 0.9


def test_padding_does_not_change_a_window(tiny_model_dir) -> None:
    rt = NerRuntime(tiny_model_dir, precision="fp32")  # INT8 scales activations per batch
    short, long = "头痛2天。", "主诉：胃脘胀痛3年，加重1周，伴嗳气、纳差、无反酸。"
    ws = [Window(0, 0, rt.encode(t), rt.features(t)) for t in (short, long)]
    alone = rt.emissions(ws[:1])[0]
    batched = rt.emissions(ws)[0]
    # attention masks padding and the backward LSTM runs within each length
    assert np.abs(alone - batched).max() < 1e-4


def test_corrupt_model_file_is_named(tiny_model_dir, tmp_path) -> None:
    import shutil

    bad = tmp_path / "ner"
    shutil.copytree(tiny_model_dir, bad)
    with open(bad / "model.int8.onnx", "r+b") as f:
        f.seek(100)
        f.write(b"\x00\x01\x02\x03")
    with pytest.raises(ModelError, match="model.int8.onnx"):
        NerRuntime(bad)
    (bad / "model.int8.onnx").unlink()
    with pytest.raises(ModelError, match="missing"):
        NerRuntime(bad)
    with pytest.raises(ModelError, match="not found"):
        NerRuntime(tmp_path / "nowhere")
