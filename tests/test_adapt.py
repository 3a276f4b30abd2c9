"""Adaptation end to end on the tiny model: reviewed records in the database -> adapt -> export -> structure --model."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tcm_desktop.records.database import Database
from tcm_desktop.structured import FoundEntity, Prescription, StructuredRecord

pytest.importorskip("torch")


def reviewed_db(path: Path, n: int) -> Path:
    """A clinic database the way ``import --reviewed`` leaves it: team records with every entity accepted,
    plus one record still carrying unreviewed model output (which must not be used)."""
    from tcm_desktop.training import team_records

    recs = team_records.load_splits()["dev"][:n]
    db = Database(path)
    for r in recs:
        ents = [FoundEntity(e.start, e.end, e.label, r.text[e.start:e.end], status="accepted") for e in r.entities]
        db.save_record(StructuredRecord(r.id, r.text, ents, [], Prescription(), "team"))
    db.save_record(StructuredRecord("draft", "头痛3天。", [FoundEntity(0, 2, "SIGN", "头痛")], [], Prescription(), "m"))
    db.close()
    return path


def _small_sets(tiny_run) -> dict:
    from tcm_desktop.training.corpus import load_split

    corpus = tiny_run[0]
    return {"replay": load_split(corpus, "team", "train")[:20], "team_test": load_split(corpus, "team", "test")}


@pytest.mark.slow
def test_import_adapt_export_structure(tiny_run, tiny_model_dir, tmp_path) -> None:
    """The base is a model artifact (like the shipped one): rebuilt from INT8, fine-tuned, exported once."""
    from tcm_desktop.cli import main
    from tcm_desktop.training.adapt import adapt, reviewed_records

    db = reviewed_db(tmp_path / "clinic.db", 24)
    recs = reviewed_records(db)
    assert len(recs) == 24 and "draft" not in {r["id"] for r in recs}  # unreviewed output is never a label
    events: list[str] = []
    out = tmp_path / "models" / "v1"
    res = adapt(db, out, base=tiny_model_dir, minutes=3, max_steps=60, lr=3e-3, min_reviewed=10,
                emit=lambda ev, **kw: events.append(ev), **_small_sets(tiny_run))
    assert events[0] == "data" and events[-1] == "done" and {"base", "export"} <= set(events)
    assert res.accepted, res.reason
    assert res.out == out and (out / "MODEL_CARD.md").exists() and (out / "model.int8.onnx").exists()
    card = (out / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert "clinic held-out" in card and "team test set" in card and "accepted" in card
    meta = json.loads((out / "model.json").read_text(encoding="utf-8"))
    assert meta["version"] == res.version and meta["adapted_on"]["reviewed_records"] + meta["adapted_on"]["held_out"] == 24
    c = res.comparison["clinic_held_out"]
    assert c["new"]["micro"]["f1"] >= c["old"]["micro"]["f1"]
    assert not (tmp_path / "models" / "v1.work").exists()
    # the new model is used by structure --model, and the saved analysis names its version
    (tmp_path / "r.txt").write_text("主诉：胃脘胀痛3年。舌淡红，苔薄白，脉弦细。", encoding="utf-8")
    stdout, stderr = io.StringIO(), io.StringIO()
    rc = main(["structure", "--model", str(out), "--db", str(tmp_path / "out.db"), str(tmp_path / "r.txt")], stdout=stdout, stderr=stderr)
    assert rc == 0, stderr.getvalue()
    assert json.loads(stdout.getvalue())["model_version"] == res.version


@pytest.mark.slow
def test_a_worse_model_is_refused_and_not_installed(tiny_run, tiny_model_dir, tmp_path, monkeypatch) -> None:
    """Real training and export; the scores say the new model is worse (the tiny model scores 0 everywhere,
    so it cannot get worse on its own): adapt must refuse, say why, and install nothing."""
    from tcm_desktop.training import adapt as adapt_mod

    def scores(model_dir, recs):
        good = Path(model_dir) == tiny_model_dir
        f = 0.8 if good else 0.6
        return {"micro": {"p": f, "r": f, "f1": f}, "macro_f1": f, "version": "v",
                "counts": [[4, 5, 5] if good else [3, 5, 5]] * len(recs)}

    monkeypatch.setattr(adapt_mod, "engine_scores", scores)
    db = reviewed_db(tmp_path / "clinic.db", 12)
    out = tmp_path / "models" / "bad"
    res = adapt_mod.adapt(db, out, base=tiny_model_dir, minutes=2, max_steps=2, min_reviewed=10,
                          emit=lambda *a, **k: None, **_small_sets(tiny_run))
    assert not res.accepted and res.reason.startswith("refused") and "held-out" in res.reason
    assert res.out is None and not out.exists()
    card = res.card.read_text(encoding="utf-8")
    assert "not installed" in card and "| 80.00 | 60.00 | -20.00" in card
    assert not (res.card.parent / "artifact").exists()


def test_verdict_rules() -> None:
    from tcm_desktop.training.adapt import verdict

    def comp(c_old, c_new, t_old, t_new):
        f = lambda x: {"micro": {"f1": x}}  # noqa: E731
        return {"clinic_held_out": {"old": f(c_old), "new": f(c_new)}, "team_test": {"old": f(t_old), "new": f(t_new)}}

    assert verdict(comp(0.70, 0.80, 0.90, 0.895))[0]
    ok, why = verdict(comp(0.70, 0.69, 0.90, 0.95))
    assert not ok and "held-out" in why
    ok, why = verdict(comp(0.70, 0.80, 0.90, 0.885))
    assert not ok and "forgets" in why


def test_too_few_reviewed_records_and_missing_torch_message(tmp_path, monkeypatch) -> None:
    import importlib.util

    from tcm_desktop.cli import main

    db = reviewed_db(tmp_path / "c.db", 3)
    err = io.StringIO()
    assert main(["adapt", "--db", str(db), "--out", str(tmp_path / "m")], stderr=err) == 1
    assert err.getvalue().count("\n") == 1 and "only 3 fully reviewed records" in err.getvalue()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    err = io.StringIO()
    assert main(["adapt", "--db", str(db)], stderr=err) == 1
    assert "pip install 'tcm-desktop[train]'" in err.getvalue() and err.getvalue().count("\n") == 1


@pytest.mark.slow
def test_the_shipped_int8_artifact_rebuilds_into_the_same_network(tmp_path) -> None:
    """No FP32 weights are shipped: the torch base is rebuilt from the INT8 file and must decode like it."""
    import torch

    from tcm_desktop.config import models_dir
    from tcm_desktop.training.artifact_base import check, rebuild, run_from_artifact
    from tcm_desktop.training.export_ner import PARITY_TEXTS

    model, meta, lexicon = rebuild(models_dir() / "ner")
    res = check(model, models_dir() / "ner", lexicon, PARITY_TEXTS)
    assert res["tag_agreement"] >= 0.99 and res["max_abs_diff"] < 0.2
    run = run_from_artifact(models_dir() / "ner", tmp_path / "base")
    state = torch.load(run / "model.pt", weights_only=True)
    assert state.keys() == model.state_dict().keys()
    assert json.loads((run / "vocab.json").read_text(encoding="utf-8")) == meta["vocab"]
