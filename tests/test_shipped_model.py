"""The shipped text model: integrity, size, INT8-vs-FP32 parity, quality floor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tcm_desktop.config import models_dir

NER = models_dir() / "ner"
FP32 = models_dir() / "ner_fp32" / "model.fp32.onnx"

pytestmark = pytest.mark.skipif(not (NER / "model.int8.onnx").exists(), reason="models/ner not trained yet")


def _fp32_copy(tmp_path: Path) -> Path:
    import shutil

    from tcm_desktop.artifacts import write_checksums

    d = tmp_path / "fp32"
    shutil.copytree(NER, d)
    shutil.copy(FP32, d / "model.fp32.onnx")
    write_checksums(d)
    return d


def test_shipped_files_are_small_and_verified() -> None:
    from tcm_desktop.artifacts import verify_checksums

    verify_checksums(NER)
    size = sum(p.stat().st_size for p in NER.iterdir() if p.is_file())
    assert size < 20 * 1024 * 1024, f"models/ner is {size / 2**20:.1f} MB"
    assert (NER / "MODEL_CARD.md").exists()


@pytest.mark.slow
@pytest.mark.skipif(not FP32.exists(), reason="models/ner_fp32 missing")
def test_fp32_onnx_matches_int8_f1_on_dev(tmp_path) -> None:
    """INT8 strict micro-F1 on the team dev set is within 0.5 point of FP32."""
    from tcm_desktop.text.engine import StructuringEngine
    from tcm_desktop.training.metrics import score
    from tcm_desktop.training.team_records import load_splits

    dev = load_splits()["dev"]
    gold = [[(e.start, e.end, e.label) for e in r.entities] for r in dev]
    f1 = {}
    for precision, model in (("int8", NER), ("fp32", _fp32_copy(tmp_path))):
        eng = StructuringEngine(model, precision=precision)
        pred = [[(e.start, e.end, e.label) for e in r.entities] for r in eng.structure_many([(r.id, r.text) for r in dev])]
        f1[precision] = score(gold, pred, [lab for r in dev for lab in r.annotated])["micro"]["f1"]
    assert abs(f1["int8"] - f1["fp32"]) <= 0.005, f1


@pytest.mark.slow
def test_quality_floor_on_team_test() -> None:
    """Guards against a silently broken model: the card's figure minus a margin."""
    from tcm_desktop.text.engine import StructuringEngine
    from tcm_desktop.training.metrics import score
    from tcm_desktop.training.team_records import load_splits

    card = json.loads((NER / "metrics.json").read_text(encoding="utf-8"))
    expected = card["sources"]["team"]["micro"]["f1"]
    test = load_splits()["test"]
    eng = StructuringEngine(NER)
    pred = [[(e.start, e.end, e.label) for e in r.entities] for r in eng.structure_many([(r.id, r.text) for r in test])]
    gold = [[(e.start, e.end, e.label) for e in r.entities] for r in test]
    f1 = score(gold, pred, test[0].annotated)["micro"]["f1"]
    assert f1 >= expected - 0.01, (f1, expected)
