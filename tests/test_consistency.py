"""The consistency lister finds each kind of conflict on small synthetic record files and none in a consistent set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tcm_desktop.training import consistency as cons


def _pool(tmp_path: Path, files: dict[str, str]) -> dict[str, Path]:
    d = tmp_path / "pool"
    d.mkdir()
    for name, body in files.items():
        (d / f"{name}.tcm.txt").write_text(body, encoding="utf-8")
    return {"p": d}


def _found(tmp_path: Path, files: dict[str, str]) -> list[cons.Conflict]:
    return cons.find_conflicts(cons.load_records(["p"], _pool(tmp_path, files)))


CONSISTENT = (
    "@@ r1\n查体：[右下腹压痛|SIGN]，[双下肢|BODY_PART]无[水肿|SIGN:absent]。因[受凉|CAUSE]后[咳嗽|SYMPTOM]。\n"
    "@@ r2\n每于[受凉|CAUSE]后[咳嗽|SYMPTOM]加重，[右下腹压痛|SIGN]。治以[疏肝健脾|TREATMENT]。\n"
)


def test_a_consistent_set_reports_no_conflict(tmp_path: Path) -> None:
    assert _found(tmp_path, {"a": CONSISTENT}) == []


def test_same_string_with_two_labels_is_a_label_conflict(tmp_path: Path) -> None:
    found = _found(tmp_path, {"a": CONSISTENT, "b": "@@ r3\n方中[白术|HERB][疏肝健脾|EFFICACY]。\n"})
    labels = [c for c in found if c.kind == "label"]
    assert [c.surface for c in labels] == ["疏肝健脾"]
    assert labels[0].categories == ["EFFICACY", "TREATMENT"]
    assert {o.record for o in labels[0].occurrences} == {"p/a/r2", "p/b/r3"}


def test_different_assertion_after_the_same_cue_is_a_label_conflict(tmp_path: Path) -> None:
    body = "@@ r1\n既往[高血压|WM_DISEASE:history]病史。\n@@ r2\n既往[高血压|WM_DISEASE]病史。\n@@ r3\n诊断：[高血压|WM_DISEASE]。\n"
    found = _found(tmp_path, {"a": body})
    assert [(c.kind, c.surface) for c in found] == [("label", "高血压")]
    assert "history×1" in found[0].detail and "present×1" in found[0].detail
    assert len(found[0].occurrences) == 2  # the diagnosis line has another cue and is not shown


def test_string_left_in_plain_text_elsewhere_is_unannotated(tmp_path: Path) -> None:
    found = _found(tmp_path, {"a": CONSISTENT, "b": "@@ r3\n患者劳累后受凉，[咳嗽|SYMPTOM]。\n"})
    plain = [c for c in found if c.kind == "unannotated"]
    assert [c.surface for c in plain] == ["受凉"]
    assert any(o.record == "p/b/r3" and o.label is None and "«受凉»" in o.context for o in plain[0].occurrences)


def test_short_numeric_and_glued_ascii_hits_are_skipped(tmp_path: Path) -> None:
    body = "@@ r1\n[BP|EXAM] [10|DOSAGE] [qd|USAGE] [0.4g|EXAM_RESULT]\n@@ r2\nBPH 10 qd 头 0.4g/L 1.0.4g\n"
    assert [c for c in _found(tmp_path, {"a": body}) if c.kind == "unannotated"] == []
    assert not cons.searchable("头") and not cons.searchable("10") and not cons.searchable("qd")
    assert cons.searchable("针刺") and cons.searchable("tid")


def test_string_inside_a_longer_or_shifted_span_of_its_label_is_a_boundary_conflict(tmp_path: Path) -> None:
    body = (
        "@@ r1\n因[受凉|CAUSE]后[咳嗽|SYMPTOM]。\n"
        "@@ r2\n[因受凉后|CAUSE][咳嗽|SYMPTOM]。\n"
        "@@ r3\n[肝区叩击痛|SIGN]。\n@@ r4\n肝[区叩击痛|SIGN]。\n"
    )
    found = {c.surface: c for c in _found(tmp_path, {"a": body}) if c.kind == "boundary"}
    assert set(found) == {"受凉", "区叩击痛"}  # each disagreement once, from the shorter string
    assert found["受凉"].categories == ["CAUSE"] and "因受凉后" in found["受凉"].detail
    assert any(o.record == "p/a/r3" and o.label == "SIGN" for o in found["区叩击痛"].occurrences)


def test_a_site_inside_a_fused_finding_of_another_label_is_no_conflict(tmp_path: Path) -> None:
    body = "@@ r1\n疼痛位于[右下腹|BODY_PART]。\n@@ r2\n[右下腹压痛|SIGN]。\n"
    assert _found(tmp_path, {"a": body}) == []


def test_counts_and_category_filter(tmp_path: Path) -> None:
    found = _found(tmp_path, {"a": CONSISTENT, "b": "@@ r3\n方中[白术|HERB][疏肝健脾|EFFICACY]。劳累受凉。\n"})
    table = cons.counts(found)
    assert table["EFFICACY"] == {"label": 1, "unannotated": 0, "boundary": 0, "same_head": 0}
    assert table["CAUSE"]["unannotated"] == 1
    assert [c.surface for c in cons.select(found, "CAUSE")] == ["受凉"]


def test_cli_writes_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    dirs = _pool(tmp_path, {"a": CONSISTENT, "b": "@@ r3\n方中[白术|HERB][疏肝健脾|EFFICACY]。\n"})
    monkeypatch.setattr(cons, "POOL_DIRS", dirs)
    out = tmp_path / "c.json"
    assert cons.main(["--pools", "p", "--json", str(out), "--category", "TREATMENT"]) == 0
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["counts"]["TREATMENT"]["label"] == 1
    assert [c["surface"] for c in data["conflicts"]] == ["疏肝健脾"]
    assert "p/b/r3" in capsys.readouterr().out


def test_entity_diff_counts_each_kind_of_edit() -> None:
    old = cons._parse_text("@@ r1\n[因受凉|CAUSE]后[头晕|SIGN]，[腹部|BODY_PART]，[乏力|SYMPTOM]，疼痛。\n")["r1"]
    new = cons._parse_text("@@ r1\n因[受凉|CAUSE]后[头晕|SYMPTOM]，腹部，[乏力|SYMPTOM:absent]，[疼痛|SYMPTOM]。\n")[
        "r1"
    ]
    assert cons.entity_diff(old, new) == {
        ("CAUSE", "boundary"): 1,
        ("SYMPTOM", "relabel"): 1,
        ("SYMPTOM", "assertion"): 1,
        ("SYMPTOM", "added"): 1,
        ("BODY_PART", "removed"): 1,
    }
    assert cons.entity_diff(old, old) == {}
    assert cons.relabels(old, new) == {("SIGN", "SYMPTOM"): 1}


def test_rev_reads_the_committed_files_and_diff_counts_edits_since(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    res = tmp_path / "resources"
    pool = res / "p"
    pool.mkdir(parents=True)
    f = pool / "a.tcm.txt"
    f.write_text("@@ r1\n[因受凉|CAUSE]后[头晕|SIGN]。\n", encoding="utf-8")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(git[:3] + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-qm", "base"], check=True)
    f.write_text("@@ r1\n因[受凉|CAUSE]后[头晕|SYMPTOM]。\n", encoding="utf-8")
    monkeypatch.setattr(cons, "RESOURCES", res)
    monkeypatch.setattr(cons, "POOL_DIRS", {"p": pool})
    old = cons.load_records(["p"], rev="HEAD")
    assert [(e.start, e.label) for e in old[0].entities] == [(0, "CAUSE"), (4, "SIGN")]
    assert [(e.start, e.label) for e in cons.load_records(["p"])[0].entities] == [(1, "CAUSE"), (4, "SYMPTOM")]
    total, skipped = cons.diff("HEAD", ["p"], repo=tmp_path)
    assert total == {("CAUSE", "boundary"): 1, ("SYMPTOM", "relabel"): 1} and skipped == 0


def test_a_label_that_differs_under_one_heading_is_flagged(tmp_path: Path) -> None:
    body = (
        "@@ r1\n治法：[活血化瘀|TREATMENT]。\n方解：[丹参|HERB][活血化瘀|EFFICACY]。\n"
        "@@ r2\n治法：[疏肝健脾|TREATMENT]。\n@@ r3\n治法：[疏肝健脾|EFFICACY]。\n"
    )
    found = {c.surface: c for c in _found(tmp_path, {"a": body}) if c.kind == "label"}
    assert found["活血化瘀"].same_heading is None  # explained by the heading: 治法 vs 方解
    assert found["疏肝健脾"].same_heading == "治法" and "under '治法'" in found["疏肝健脾"].detail
    assert cons.counts(found.values())["TREATMENT"]["same_head"] == 1
    assert cons.heading("主诉：头痛。\n【方解】柴胡", 12) == "方解"
