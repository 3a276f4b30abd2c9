"""The agreement study: disagreements are sorted by kind, and records are paired by id and identical text."""

from __future__ import annotations

import pytest

from tcm_desktop.training.agreement import agreement, disagreements, paired_records
from tcm_desktop.training.team_records import ANNOTATED_DIR

SAMPLE = ANNOTATED_DIR.parent / "agreement" / "test_sample_second.tcm.txt"


def test_each_disagreement_is_one_kind() -> None:
    first = [[(0, 4, "CAUSE"), (5, 7, "BODY_PART"), (8, 10, "SIGN"), (12, 14, "TIME")]]
    second = [[(0, 2, "CAUSE"), (5, 8, "SIGN"), (8, 10, "SYMPTOM"), (15, 16, "TIME")]]
    kinds = disagreements(first, second)
    assert kinds["boundary"]["CAUSE"] == 1
    assert kinds["boundary+label"]["BODY_PART"] == 1
    assert kinds["label"]["SIGN"] == 1
    assert kinds["only_first"]["TIME"] == 1 and kinds["only_second"]["TIME"] == 1


def test_identical_annotations_agree_fully_and_swapping_swaps_precision_and_recall(tmp_path) -> None:
    a = tmp_path / "a.tcm.txt"
    b = tmp_path / "b.tcm.txt"
    a.write_text("@@ r1\n[头痛|SYMPTOM][三天|TIME]，[受凉|CAUSE]后起。\n", encoding="utf-8")
    b.write_text("@@ r1\n[头痛|SYMPTOM]三天，[受凉|CAUSE]后起。\n", encoding="utf-8")
    f, s = paired_records(a, b, set())
    assert agreement(f, f)["micro"]["f1"] == 1.0
    ab, ba = agreement(f, s), agreement(s, f)
    assert ab["micro"]["p"] == ba["micro"]["r"] == 1.0 and ab["micro"]["r"] == pytest.approx(2 / 3)


def test_a_second_annotation_with_changed_text_is_refused(tmp_path) -> None:
    a = tmp_path / "a.tcm.txt"
    b = tmp_path / "b.tcm.txt"
    a.write_text("@@ r1\n[头痛|SYMPTOM]三天。\n", encoding="utf-8")
    b.write_text("@@ r1\n[头疼|SYMPTOM]三天。\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="text differs"):
        paired_records(a, b, set())


def test_the_committed_second_annotation_pairs_with_the_test_records() -> None:
    first, second = paired_records(ANNOTATED_DIR / "test", SAMPLE, set())
    assert len(first) == len(second) == 48
    res = agreement(first, second)
    assert res["spans"]["second"] > 3000 and 0.5 < res["micro"]["f1"] < 1.0


def test_agreement_intervals_contain_the_point_estimate_and_narrow_with_more_records(tmp_path) -> None:
    first, second = paired_records(ANNOTATED_DIR / "test", SAMPLE, set())
    full = agreement(first, second)
    half = agreement(first[:12], second[:12])
    lo, hi = full["micro"]["f1_95"]
    assert lo <= full["micro"]["f1"] <= hi
    assert hi - lo < half["micro"]["f1_95"][1] - half["micro"]["f1_95"][0]
