"""The template key:value rule (guidelines T1-T3) on its own, without a model."""

from __future__ import annotations

from tcm_desktop.structured import FoundEntity
from tcm_desktop.text.templates import apply_template_assertions, template_findings, template_pairs


def _spans(text: str) -> list[tuple[str, str]]:
    return [(text[s:e], a) for s, e, a in template_pairs(text)]


def test_pairs_with_qualifier_values_and_their_assertion() -> None:
    text = "问诊：食欲：不好，睡眠：差；二便：调，口渴：无，纳:可。汗出： 多明显"
    assert _spans(text) == [("食欲：不好", "present"), ("睡眠：差", "present"), ("二便：调", "present"),
                            ("口渴：无", "absent"), ("纳:可", "present"), ("汗出： 多", "present")]


def test_finding_values_and_unknown_keys_are_left_to_the_model() -> None:
    assert _spans("寒热：怕冷明显，睡眠：入睡困难，血压：正常，主诉：差") == []
    assert _spans("患者食欲：差") == []  # the key must start a clause
    assert _spans("食欲：差异") == []  # the value must end at punctuation


def test_rule_fills_gaps_but_never_overrides_other_categories() -> None:
    text = "食欲：不好，寒热：怕冷，大便：溏，口渴：无"
    found = [
        FoundEntity(0, 2, "SYMPTOM", "食欲"),  # a piece of the pair: replaced by the pair
        FoundEntity(6, 8, "SYMPTOM", "寒热"),  # a key before its colon: dropped (T2)
        FoundEntity(9, 11, "SYMPTOM", "怕冷"),
        FoundEntity(12, 16, "EXAM_RESULT", "大便：溏"),  # another category: kept, no pair proposed
    ]
    added = template_findings(text, found)
    assert [(e.text, e.assertion) for e in added] == [("食欲：不好", "present"), ("口渴：无", "absent")]
    assert [e.text for e in found] == ["怕冷", "大便：溏"]


def test_template_assertion_overrides_cue_rules_for_whole_pairs() -> None:
    ents = [FoundEntity(0, 4, "SYMPTOM", "口渴：无"), FoundEntity(5, 9, "SYMPTOM", "二便：调", "absent"),
            FoundEntity(10, 12, "SYMPTOM", "发热", "absent")]
    apply_template_assertions(ents)
    assert [e.assertion for e in ents] == ["absent", "present", "absent"]


def test_symptom_keys_take_their_qualifier_and_tongue_pulse_values_their_category() -> None:
    text = "口苦：有，发热：无，脉象：弦细，舌质：淡红，舌苔：薄白，脉象：左关弦"
    found = [FoundEntity(0, 2, "SYMPTOM", "口苦"), FoundEntity(5, 7, "SYMPTOM", "发热"),
             FoundEntity(13, 15, "CAUSE", "弦细")]
    added = template_findings(text, found)
    assert [(e.text, e.assertion) for e in found] == [("口苦：有", "present"), ("发热：无", "absent")]
    assert [(e.text, e.label) for e in added] == [("弦细", "PULSE"), ("淡红", "TONGUE"), ("薄白", "COATING")]
