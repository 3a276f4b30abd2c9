"""Section headings: where each part of a record starts and ends."""

from __future__ import annotations

from tcm_desktop.text.sections import find_sections, section_at

RECORD = """主诉：胃脘胀痛3年，加重1周。
现病史：患者3年前出现胃脘胀痛。既往史：高血压病史。
个人史：吸烟20年。
婚育史：已婚。
月经史：周期规律。
家族史：父亲有胃癌病史。
过敏史：否认。
查体：腹软。
舌脉：舌淡红，苔薄白，脉弦细。
辅助检查：胃镜示慢性胃炎。
入院诊断：
中医诊断：胃脘痛 肝胃不和证
西医诊断：慢性胃炎
辨证分析：肝郁气滞。
治法：疏肝和胃。
处方：柴胡10g，白芍15g。7剂，水煎服。
医嘱：忌辛辣。
二诊（2024-03-19）：胀痛减轻。
复诊 2024/7/2：纳可。"""


def test_all_headings_in_order_with_canonical_keys() -> None:
    names = [s.name for s in find_sections(RECORD)]
    assert names == [
        "chief_complaint", "present_illness", "past_history", "personal_history", "marital_history",
        "menstrual_history", "family_history", "allergy", "physical_exam", "tongue_pulse",
        "auxiliary_exam", "diagnosis", "tcm_diagnosis", "wm_diagnosis", "syndrome_differentiation",
        "treatment_principle", "prescription", "advice", "follow_up", "follow_up",
    ]


def test_bodies_end_where_next_section_starts() -> None:
    secs = {s.title: s for s in find_sections(RECORD)}
    body = lambda t: RECORD[secs[t].start : secs[t].end]  # noqa: E731
    assert body("主诉") == "胃脘胀痛3年，加重1周。"
    assert body("现病史") == "患者3年前出现胃脘胀痛。"  # 既往史 after 。 starts a new section
    assert body("既往史") == "高血压病史。"
    assert body("处方") == "柴胡10g，白芍15g。7剂，水煎服。"
    assert body("入院诊断") == ""  # only groups the next headings
    assert body("舌脉") == "舌淡红，苔薄白，脉弦细。"
    assert body("复诊") == "纳可。"
    assert secs["二诊"].title == "二诊" and body("二诊") == "胀痛减轻。"


def test_heading_words_in_running_text_are_not_sections() -> None:
    text = "患者主诉头痛，诊断为偏头痛，处方以川芎茶调散。"
    assert find_sections(text) == []


def test_heading_needs_colon_and_line_start() -> None:
    assert find_sections("既往体健。") == []
    secs = find_sections("  1.诊断: 胃痛\n2、治法：和胃")
    assert [(s.name, s.title) for s in secs] == [("diagnosis", "诊断"), ("treatment_principle", "治法")]
    assert "胃痛" == "  1.诊断: 胃痛\n2、治法：和胃"[secs[0].start : secs[0].end]


def test_synonym_headings() -> None:
    text = "体格检查：腹软\n舌象：舌红\n脉象：脉数\n方药：逍遥散\n治则：疏肝\n中医诊断：郁证"
    assert [s.name for s in find_sections(text)] == [
        "physical_exam", "tongue_pulse", "tongue_pulse", "prescription", "treatment_principle", "tcm_diagnosis",
    ]


def test_section_at_finds_the_body_holding_a_position() -> None:
    secs = find_sections(RECORD)
    pos = RECORD.index("父亲")
    assert section_at(secs, pos).name == "family_history"
    assert section_at(secs, 0) is None  # inside the heading 主诉 itself
