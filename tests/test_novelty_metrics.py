from __future__ import annotations

import json
from pathlib import Path

import pytest

from tcm_desktop.training.evaluate import novelty_markdown, seen_strings
from tcm_desktop.training.metrics import score_by_novelty

TEXT = "头痛发热，舌红苔黄，柴胡10g"
#        0123456789...: 头痛 0-2, 发热 2-4, 舌红 5-7, 苔黄 7-9, 柴胡 10-12, 10g 12-15


def test_scores_split_by_whether_the_string_with_its_label_was_seen() -> None:
    gold = [[(0, 2, "SYMPTOM"), (2, 4, "SYMPTOM"), (5, 7, "TONGUE"), (10, 12, "HERB")]]
    pred = [[(0, 2, "SYMPTOM"), (2, 4, "SIGN"), (5, 7, "TONGUE"), (7, 9, "COATING"), (12, 15, "DOSAGE")]]
    # 发热 was seen as SYMPTOM; 柴胡 was seen only as FORMULA, so as HERB it is unseen.
    seen = {("头痛", "SYMPTOM"), ("发热", "SYMPTOM"), ("柴胡", "FORMULA"), ("苔黄", "COATING")}
    labels = ["SYMPTOM", "SIGN", "TONGUE", "COATING", "HERB", "DOSAGE"]
    out = score_by_novelty([TEXT], gold, pred, seen, labels, min_support=1)

    # seen gold: 头痛 (found), 发热 (missed: predicted as SIGN); seen predictions: 头痛 (right), 苔黄 (wrong)
    assert (out["seen"]["support"], out["seen"]["predicted"]) == (2, 2)
    assert out["seen"]["r"] == pytest.approx(0.5) and out["seen"]["p"] == pytest.approx(0.5)
    # unseen gold: 舌红 (found), 柴胡/HERB (missed); unseen predictions: 发热/SIGN, 舌红, 10g -> 1 of 3 right
    assert (out["unseen"]["support"], out["unseen"]["predicted"]) == (2, 3)
    assert out["unseen"]["r"] == pytest.approx(0.5) and out["unseen"]["p"] == pytest.approx(1 / 3)
    assert out["unseen"]["f1"] == pytest.approx(2 * 0.5 * (1 / 3) / (0.5 + 1 / 3))
    assert out["seen_share"] == pytest.approx(0.5)
    assert out["seen_share_strings"] == pytest.approx(0.5)
    assert set(out["unseen"]["per_label"]) == {"TONGUE", "HERB"}
    assert out["unseen"]["per_label"]["HERB"]["r"] == 0.0


def test_categories_below_the_support_floor_get_no_row() -> None:
    gold = [[(0, 2, "SYMPTOM")]]
    out = score_by_novelty([TEXT], gold, gold, set(), ["SYMPTOM"], min_support=2)
    assert out["unseen"]["per_label"] == {} and out["unseen"]["f1"] == 1.0
    assert out["seen"]["support"] == 0 and out["seen_share"] == 0.0


def test_seen_strings_come_from_train_and_dev_only(tmp_path: Path) -> None:
    (tmp_path / "team").mkdir()
    for split, word in (("train", "头痛"), ("dev", "发热"), ("test", "咳嗽")):
        rec = {"id": split, "text": word + "。", "entities": [{"start": 0, "end": 2, "label": "SYMPTOM"}]}
        (tmp_path / "team" / f"{split}.jsonl").write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    assert seen_strings(tmp_path, ["team", "absent_source"]) == {("头痛", "SYMPTOM"), ("发热", "SYMPTOM")}


def test_the_markdown_has_a_row_per_group_and_category() -> None:
    gold = [[(0, 2, "SYMPTOM"), (5, 7, "TONGUE")]]
    out = score_by_novelty([TEXT], gold, gold, {("头痛", "SYMPTOM")}, ["SYMPTOM", "TONGUE"], min_support=1)
    out["seen_from"] = ["team"]
    rows = [line for line in novelty_markdown(out) if line.startswith("| unseen") or line.startswith("| seen")]
    assert rows == [
        "| unseen | all | 100.0 | 100.0 | 100.0 | 1 | 1 |",
        "| unseen | TONGUE | 100.0 | 100.0 | 100.0 | 1 | 1 |",
        "| seen | all | 100.0 | 100.0 | 100.0 | 1 | 1 |",
        "| seen | SYMPTOM | 100.0 | 100.0 | 100.0 | 1 | 1 |",
    ]
