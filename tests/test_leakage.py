from __future__ import annotations

import json
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tcm_desktop.annotation import Record
from tcm_desktop.training import leakage

# CJK characters only: no sentence separators, no headings, so a drawn string is one sentence.
_HAN = st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF)
_SENTENCE = st.text(_HAN, min_size=20, max_size=60)


def rec(rid: str, text: str) -> Record:
    return Record(rid, text, [])


def test_the_real_test_sets_have_no_leaks() -> None:
    found = leakage.check()
    assert set(found) == {"team test vs team train+dev", "clinic_b test vs clinic_b train"}
    offenders = {pair: [(f.rule, f.test_id, f.ref_id) for f in leakage.failing(fs)] for pair, fs in found.items()}
    assert offenders == {pair: [] for pair in found}


@settings(max_examples=60, deadline=None)
@given(_SENTENCE)
def test_a_sentence_is_flagged_against_itself(s: str) -> None:
    found = leakage.sentence_leaks([rec("t", s + "。")], [rec("r", "无关的话。" + s + "。")])
    assert [(f.rule, f.test_id, f.ref_id, f.score) for f in found] == [("sentence", "t", "r", 1.0)]


@settings(max_examples=60, deadline=None)
@given(_SENTENCE, st.data())
def test_one_changed_character_is_still_flagged_when_the_sentence_is_long_enough(s: str, data) -> None:
    # One substitution changes at most 3 of the 3-grams on each side, so with >= 17 distinct
    # 3-grams the Jaccard stays >= (n - 3) / (n + 3) >= 0.7.
    assume(len(leakage.trigrams(s)) >= 17)
    i = data.draw(st.integers(0, len(s) - 1))
    other = data.draw(_HAN.filter(lambda c: c != s[i]))
    changed = s[:i] + other + s[i + 1 :]
    assert leakage.jaccard(s, changed) >= leakage.SENTENCE_JACCARD
    assert len(leakage.sentence_leaks([rec("t", changed)], [rec("r", s)])) == 1


@settings(max_examples=60, deadline=None)
@given(_SENTENCE, _SENTENCE)
def test_the_index_agrees_with_the_plain_jaccard(a: str, b: str) -> None:
    flagged = bool(leakage.sentence_leaks([rec("t", a)], [rec("r", b)]))
    assert flagged == (leakage.jaccard(a, b) >= leakage.SENTENCE_JACCARD)


def test_different_sentences_short_sentences_and_reworded_sentences_are_not_flagged() -> None:
    ref = [rec("r", "患者三天前受凉后出现发热恶寒，头身疼痛，鼻塞流清涕。舌红，苔薄黄，脉浮数。")]
    test = [
        rec("unrelated", "今晨突发胸骨后压榨样疼痛，向左肩放射，伴大汗淋漓。"),
        rec("short", "舌红，苔薄黄，脉浮数。"),  # 8 characters without punctuation: not compared
        rec("reworded", "三日前着凉，随即发烧怕冷、周身酸痛，鼻子不通并流清鼻涕。"),
    ]
    assert leakage.sentence_leaks(test, ref) == []


def test_a_sentence_found_in_three_training_records_is_stock_phrasing() -> None:
    line = "七剂，水煎服，每日一剂，早晚分两次温服。"
    twice = [rec(f"r{i}", f"病例{i}。{line}") for i in range(2)]
    thrice = twice + [rec("r2", f"病例2。{line}")]
    assert [f.rule for f in leakage.sentence_leaks([rec("t", line)], twice)] == ["sentence"]
    assert [f.rule for f in leakage.sentence_leaks([rec("t", line)], thrice)] == ["sentence-stock"]


def test_sentences_split_drop_headings_and_count_only_word_characters() -> None:
    text = "主诉：反复胃脘胀痛两年余，加重一周。\n舌脉：舌红，苔薄黄，脉弦。3.奥美拉唑肠溶胶囊20mg bid；好!"
    assert leakage.sentences(text) == ["反复胃脘胀痛两年余，加重一周", "奥美拉唑肠溶胶囊20mg bid"]


def test_measurements_keep_lab_values_and_drop_doses() -> None:
    text = "FT3 12.6 pmol/L，HbA1c 8.4%，BP 160/100mmHg，P 88次/分，柴胡10g，奥美拉唑20mg，Hb 86g/L"
    assert leakage.measurements(text) == {"12.6pmol/L", "8.4%", "160/100mmHg", "88次/分", "86g/L"}


_TRAIN_CASE = (
    "主诉：心慌、多汗伴消瘦3月。现病史：情绪激动后出现心慌，怕热多汗，急躁易怒，手抖。"
    "辅助检查：FT3 12.6pmol/L，FT4 38.4pmol/L，TSH 0.005mIU/L。处方：栀子清肝汤合消瘰丸。"
)


def test_a_record_sharing_three_rare_measurements_with_one_train_record_is_flagged() -> None:
    reworded = "颈前肿大半年，近来心悸出汗。查甲功：FT3 12.6pmol/L、FT4 38.4pmol/L、TSH 0.005mIU/L。予清肝泻火之剂。"
    other = rec("other", "咳嗽两周。体温 36.5℃，心率 80次/分。")
    found = leakage.record_leaks([rec("t", reworded)], [rec("r", _TRAIN_CASE), other])
    assert [(f.rule, f.ref_id, f.score) for f in found] == [("record-measurements", "r", 3.0)]


def test_common_measurements_are_not_evidence_of_a_paraphrase() -> None:
    vitals = "T 36.5℃，P 80次/分，R 18次/分，BP 120/80mmHg。"
    ref = [rec(f"r{i}", f"病例{i}各不相同的病史记录。{vitals}") for i in range(leakage.RARE_MAX_RECORDS + 3)]
    test = rec("t", f"另一位病人因腰痛就诊，腰部酸软无力，遇劳加重。{vitals}")
    assert leakage.record_leaks([test], ref) == []


def test_a_record_retold_from_one_train_record_is_flagged_and_a_new_case_is_not() -> None:
    retold = (
        "心慌、多汗，消瘦三月。情绪激动后起病，怕热多汗，急躁易怒，手抖。"
        "甲功示甲亢。予栀子清肝汤合消瘰丸加减。"
    )
    new_case = (
        "右膝关节疼痛肿胀五年，上下楼梯加重，晨僵十分钟，关节活动时有摩擦音。"
        "膝关节X线示关节间隙变窄。方用独活寄生汤加减，配合温针灸犊鼻、内膝眼。"
    )
    found = leakage.record_leaks([rec("retold", retold), rec("new", new_case)], [rec("r", _TRAIN_CASE)])
    assert [(f.rule, f.test_id) for f in found] == [("record-containment", "retold")]


def test_check_reads_the_pools_and_the_cli_exits_1_on_offenders(tmp_path: Path, monkeypatch, capsys) -> None:
    for pool, body in (("train", _TRAIN_CASE), ("test", _TRAIN_CASE.replace("3月", "4月"))):
        (tmp_path / pool).mkdir()
        (tmp_path / pool / f"{pool}_x.tcm.txt").write_text(f"@@ a1\n{body}\n", encoding="utf-8")
    found = leakage.check(tmp_path, tmp_path / "no_clinic_b")
    assert list(found) == ["team test vs team train+dev"]
    assert {f.test_id for f in found["team test vs team train+dev"]} == {"team-test-test_x-a1"}

    monkeypatch.setattr(leakage.team_records, "ANNOTATED_DIR", tmp_path)
    monkeypatch.setattr(leakage, "CLINIC_B_DIR", tmp_path / "no_clinic_b")
    out = tmp_path / "leaks.json"
    assert leakage.main(["check", "--json", str(out)]) == 1
    assert "leak check: 3 findings" in capsys.readouterr().out  # 2 sentences and the record
    payload = json.loads(out.read_text(encoding="utf-8"))
    counts = payload["summary"]["team test vs team train+dev"]
    assert (counts["test_records"], counts["test_records_with_findings"], counts["failing_findings"]) == (1, 1, 3)
    assert counts["test_records_by_rule"] == {"record-measurements": 1, "sentence": 1}

    assert leakage.main(["scores", "--top", "1"]) == 0
    assert "record-measurements 3: team-test-test_x-a1 ~ team-train-train_x-a1" in capsys.readouterr().out

    assert leakage.main(["check", "--blind"]) == 1
    blind = capsys.readouterr().out
    test_lines = [ln for ln in blind.splitlines() if ln.startswith("   test:")]
    ref_lines = [ln for ln in blind.splitlines() if ln.startswith("   ref:")]
    assert len(test_lines) == len(ref_lines) == 3  # the writer sees their own sentences, never the test's
    assert set(test_lines) == {"   test: (hidden: --blind)"} and any(len(ln) > 12 for ln in ref_lines)

    (tmp_path / "test" / "test_x.tcm.txt").write_text("@@ a1\n[坏|NOT_A_LABEL]\n", encoding="utf-8")
    assert leakage.main(["check"]) == 2
    assert "could not be read" in capsys.readouterr().err


def test_stock_phrasing_alone_does_not_fail_the_cli(tmp_path: Path, monkeypatch, capsys) -> None:
    line = "七剂，水煎服，每日一剂，早晚分两次温服。"
    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    train = "".join(f"@@ r{i}\n病例{i}。{line}\n" for i in range(leakage.RARE_MAX_RECORDS + 1))
    (tmp_path / "train" / "a.tcm.txt").write_text(train, encoding="utf-8")
    (tmp_path / "test" / "b.tcm.txt").write_text(f"@@ t1\n腰痛一月。{line}\n", encoding="utf-8")
    monkeypatch.setattr(leakage.team_records, "ANNOTATED_DIR", tmp_path)
    monkeypatch.setattr(leakage, "CLINIC_B_DIR", tmp_path / "no_clinic_b")
    assert leakage.main(["check"]) == 0
    assert "sentence-stock" in capsys.readouterr().out


def test_the_thresholds_are_the_documented_ones() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "data.md").read_text(encoding="utf-8")
    section = doc[doc.index("## Honest test set") :]
    assert "python -m tcm_desktop.training.leakage check" in section
    for value in (">= 0.7", "at least 10 units", ">= 3 identical", ">= 0.35"):
        assert value in section, value
    assert (leakage.SENTENCE_JACCARD, leakage.MIN_SENTENCE_CHARS) == (0.7, 10)
    assert (leakage.RECORD_SHARED_MEASUREMENTS, leakage.RECORD_CONTAINMENT) == (3, 0.35)
