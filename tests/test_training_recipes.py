"""The training recipes beyond plain fine-tuning: distillation, MLM pre-training, ablation statistics."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from tcm_desktop.schema import LABELS  # noqa: E402
from tcm_desktop.text.tagging import tag_names  # noqa: E402
from tcm_desktop.training import metrics, pretrain_mlm, train_ner  # noqa: E402
from tcm_desktop.training.export_ner import load_run  # noqa: E402
from tcm_desktop.training.ner_data import MASK, SPECIALS, Example  # noqa: E402


def test_distillation_loss_is_zero_only_when_student_matches_teacher() -> None:
    g = torch.Generator().manual_seed(0)
    teacher = torch.randn(2, 5, 7, generator=g)
    mask = torch.ones(2, 5, dtype=torch.bool)
    assert train_ner.distillation_loss(teacher.clone(), teacher, mask, 2.0).item() == pytest.approx(0.0, abs=1e-5)
    other = torch.randn(2, 5, 7, generator=g)
    assert train_ner.distillation_loss(other, teacher, mask, 2.0).item() > 0.1
    # padding does not count
    mask[1, 2:] = False
    padded = other.clone()
    padded[1, 2:] = teacher[1, 2:]
    full = train_ner.distillation_loss(padded, teacher, torch.ones_like(mask), 2.0)
    assert train_ner.distillation_loss(padded, teacher, mask, 2.0).item() == pytest.approx(full.item(), rel=1e-5)
    changed = padded.clone()
    changed[1, 3] += 5.0
    assert train_ner.distillation_loss(changed, teacher, mask, 2.0).item() == pytest.approx(full.item(), rel=1e-5)


def test_mask_tokens_masks_about_the_asked_share_of_real_characters_only() -> None:
    rng = np.random.default_rng(0)
    ids = rng.integers(len(SPECIALS), 500, size=(64, 100))
    real = np.zeros_like(ids, dtype=bool)
    real[:, :80] = True
    inputs, targets = pretrain_mlm.mask_tokens(ids, real, 500, 0.15, rng)
    chosen = targets != -100
    assert not chosen[:, 80:].any()
    assert 0.13 < chosen[real].mean() < 0.17
    assert (targets[chosen] == ids[chosen]).all()
    assert (inputs[~chosen] == ids[~chosen]).all()
    share_masked = (inputs[chosen] == MASK).mean()
    assert 0.75 < share_masked < 0.85
    assert inputs.min() >= 0 and (inputs[chosen & (inputs != MASK)] >= len(SPECIALS)).all()


def test_paired_bootstrap_interval_is_zero_for_identical_runs_and_excludes_zero_for_a_clear_gain() -> None:
    rng = np.random.default_rng(1)
    ref = np.array([(rng.integers(3, 8), 10, 10) for _ in range(100)])
    assert metrics.paired_delta_ci(ref, ref.copy()) == (0.0, 0.0)
    better = ref.copy()
    better[:, 0] = np.minimum(better[:, 0] + 2, 10)
    lo, hi = metrics.paired_delta_ci(ref, better)
    assert 0 < lo <= hi
    assert metrics.micro_f1(better) > metrics.micro_f1(ref)


def test_mlm_pretraining_learns_and_its_run_fine_tunes(tiny_run, tmp_path) -> None:
    corpus, _ = tiny_run
    mlm = tmp_path / "mlm"
    assert pretrain_mlm.main(["--corpus", str(corpus), "--out", str(mlm), "--size", "tiny", "--max-steps", "60",
                              "--sources", "team", "--lr", "3e-3", "--threads", "1"]) == 0
    events = [json.loads(line) for line in (mlm / "pretrain.log").read_text(encoding="utf-8").splitlines()]
    before = next(e for e in events if e["event"] == "start")["before"]
    after = next(e for e in events if e["event"] == "done")["held_out"]
    assert after["loss"] < before["loss"] - 0.5  # it learned character statistics of held-out text
    ft = tmp_path / "ft"
    assert train_ner.main(["--corpus", str(corpus), "--out", str(ft), "--init", str(mlm), "--warmup-steps", "5",
                           "--max-steps", "5", "--sources", "team", "--eval-minutes", "10", "--threads", "1"]) == 0
    model, _, _, conf = load_run(ft)
    pre = torch.load(mlm / "model.pt", map_location="cpu", weights_only=True)
    assert conf["args"]["init"] == str(mlm)
    # the fine-tune started from the pre-trained encoder (5 small steps move it only a little)
    emb = model.state_dict()["emissions.bert.embeddings.word_embeddings.weight"]
    assert torch.allclose(emb, pre["emissions.bert.embeddings.word_embeddings.weight"], atol=0.05)


def test_distillation_pulls_the_student_towards_the_teacher(tiny_run, tmp_path) -> None:
    corpus, teacher_run = tiny_run
    teacher, vocab, lexicon, _ = load_run(teacher_run)
    student_run = tmp_path / "student"
    assert train_ner.main(["--corpus", str(corpus), "--out", str(student_run), "--size", "tiny", "--teacher", str(teacher_run),
                           "--kd-weight", "1.0", "--max-steps", "80", "--lr", "3e-3", "--sources", "team",
                           "--eval-minutes", "10", "--threads", "1", "--team-weight", "1"]) == 0
    student, *_ = load_run(student_run)
    fresh = train_ner.NerModel(student.cfg, student.tags).eval()
    text = "患者头痛三天，舌淡红，苔薄白，脉浮紧。予桂枝汤加减。"
    ids = torch.from_numpy(vocab.encode(text)).unsqueeze(0)
    lex = torch.from_numpy(lexicon.features(text).astype(np.float32)).unsqueeze(0)
    mask = torch.ones_like(ids, dtype=torch.bool)
    with torch.no_grad():
        t_em = teacher.emissions(ids, lex, mask)
        kl_trained = train_ner.distillation_loss(student.emissions(ids, lex, mask), t_em, mask, 1.0).item()
        kl_fresh = train_ner.distillation_loss(fresh.emissions(ids, lex, mask), t_em, mask, 1.0).item()
    assert kl_trained < 0.5 * kl_fresh


def test_a_teacher_with_another_vocabulary_is_refused(tiny_run, tmp_path) -> None:
    corpus, teacher_run = tiny_run
    other = tmp_path / "teacher"
    other.mkdir()
    for name in ("config.json", "lexicon.json", "model.pt"):
        (other / name).write_bytes((teacher_run / name).read_bytes())
    vocab = json.loads((teacher_run / "vocab.json").read_text(encoding="utf-8"))
    (other / "vocab.json").write_text(json.dumps(vocab[:3] + vocab[4:] + ["龘"], ensure_ascii=False), encoding="utf-8")
    with pytest.raises(SystemExit, match="vocabulary"):
        train_ner.main(["--corpus", str(corpus), "--out", str(tmp_path / "s"), "--size", "tiny", "--teacher", str(other),
                        "--max-steps", "1", "--sources", "team", "--threads", "1"])


def _team_windows(tiny_run, out, *extra: str) -> int:
    """How many team train windows a one-step fine-tune of the tiny run builds with these extra arguments."""
    corpus, run = tiny_run
    assert train_ner.main(["--corpus", str(corpus), "--out", str(out), "--init", str(run), "--max-steps", "1",
                           "--sources", "team", "--eval-minutes", "10", "--threads", "1", *extra]) == 0
    log = [json.loads(line) for line in (out / "train.log").read_text(encoding="utf-8").splitlines()]
    return next(e for e in log if e["event"] == "data")["team_windows"]


def test_mention_replacement_retells_each_team_copy_after_the_first(tiny_run, tmp_path) -> None:
    plain = _team_windows(tiny_run, tmp_path / "plain", "--team-weight", "3")
    retold = _team_windows(tiny_run, tmp_path / "retold", "--team-weight", "3", "--mention-replace", "0.5")
    assert plain % 3 == 0
    # one original and two retold copies: about as many windows as three originals (lengths change a little)
    assert 0.9 * plain <= retold <= 1.1 * plain and retold != plain


def test_oversampling_repeats_only_the_windows_holding_the_weak_labels(tiny_run, tmp_path) -> None:
    corpus, _ = tiny_run
    tags = tag_names()
    cause = {tags.index("B-CAUSE"), tags.index("I-CAUSE")}
    with_cause = Example("team", np.array([5, 6]), np.zeros((2, 0)), np.ones((2, len(tags)), bool), np.array(sorted(cause)))
    without = Example("team", np.array([5, 6]), np.zeros((2, 0)), np.ones((2, len(tags)), bool), np.array([0, 0]))
    assert train_ner.oversample_windows([with_cause, without], cause, 3) == [with_cause] * 3 + [without]
    assert train_ner.oversample_windows([with_cause, without], set(), 3) == [with_cause, without]

    plain = _team_windows(tiny_run, tmp_path / "plain", "--team-weight", "1")
    every = _team_windows(tiny_run, tmp_path / "every", "--team-weight", "1", "--oversample", *sorted(LABELS),
                          "--oversample-factor", "3")
    some = _team_windows(tiny_run, tmp_path / "some", "--team-weight", "1", "--oversample", "ACUPOINT",
                         "--oversample-factor", "3")
    assert plain < some < every <= 3 * plain
    with pytest.raises(SystemExit, match="not a category"):
        train_ner.main(["--corpus", str(corpus), "--out", str(tmp_path / "x"), "--oversample", "CAUSES"])


def test_train_mentions_join_the_lexicon_under_their_labels() -> None:
    from tcm_desktop.text.lexicon import Lexicon

    base = Lexicon({"WM_DISEASE": ["胃癌"], "EXAM": ["CT"]})
    records = [
        {"text": "胃癌术后，查CEA、血常规，腹痛", "entities": [
            {"start": 0, "end": 2, "label": "WM_DISEASE"},  # already there
            {"start": 6, "end": 9, "label": "EXAM"},
            {"start": 10, "end": 13, "label": "EXAM"},
            {"start": 14, "end": 15, "label": "BODY_PART"},  # one character: not a term
            {"start": 14, "end": 16, "label": "SYMPTOM"},  # no such category in this lexicon
        ]},
    ]
    lexicon, added = train_ner.with_train_mentions(base, records)
    assert lexicon.terms("EXAM") == {"CT", "CEA", "血常规"}
    assert lexicon.terms("WM_DISEASE") == {"胃癌"}
    assert added == {"EXAM": 2}
    assert lexicon.categories == base.categories
    assert base.terms("EXAM") == {"CT"}  # the run's base lexicon is not changed in place


def test_a_train_record_never_finds_its_own_mentions_in_its_gazetteer() -> None:
    from tcm_desktop.text.lexicon import Lexicon

    base = Lexicon({"CAUSE": ["受凉"], "SYMPTOM": []})
    records = [{"id": f"r{i}", "text": f"因诱因{i:02d}起病", "entities": [{"start": 1, "end": 5, "label": "CAUSE"}]}
               for i in range(40)]
    records.append({"id": "shared", "text": "诱因01", "entities": [{"start": 0, "end": 4, "label": "CAUSE"}]})
    full, per_record, added = train_ner.gazetteer_folds(base, records, folds=5)
    assert added == {"CAUSE": 40}
    assert full.terms("CAUSE") == {"受凉"} | {f"诱因{i:02d}" for i in range(40)}
    assert set(per_record) == {r["id"] for r in records}
    folds = {id(lex) for lex in per_record.values()}
    assert 1 < len(folds) <= 5
    for r in records[:40]:
        own = r["text"][1:5]
        assert "受凉" in per_record[r["id"]].terms("CAUSE")
        assert (own in per_record[r["id"]].terms("CAUSE")) == (own == "诱因01" and per_record["shared"] is not per_record[r["id"]])
    # every other record's mention is in some record's gazetteer: the folds only hide a record's own fold
    assert all(len(lex.terms("CAUSE")) < len(full.terms("CAUSE")) for lex in per_record.values())
