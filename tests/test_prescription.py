"""Prescription rows from herb/dose/usage spans."""

from __future__ import annotations

from tcm_desktop.structured import FoundEntity
from tcm_desktop.text.markup import parse_markup
from tcm_desktop.text.prescription import build_prescription
from tcm_desktop.text.values import Normalizer

NORM = Normalizer(herb_aliases={"炙甘草": ("甘草", "炙")})


def parse(marked: str) -> tuple[str, list[FoundEntity]]:
    text, ents = parse_markup(marked)
    return text, [FoundEntity(e.start, e.end, e.label, text[e.start : e.end], e.assertion) for e in ents]


def rows(p) -> list[tuple]:
    return [(i.name, i.canonical, i.processing, i.dose, i.amount, i.unit, i.usage) for i in p.items]


def test_brief_example() -> None:
    text, ents = parse(
        "处方：[柴胡疏肝散|FORMULA]加减：[柴胡|HERB][10g|DOSAGE]，[白芍|HERB][15g|DOSAGE]，"
        "[炙甘草|HERB][6g|DOSAGE]，[生龙骨|HERB][30g|DOSAGE](先煎)，[砂仁|HERB][6g|DOSAGE][后下|USAGE]。"
        "[7剂|DOSAGE]，[水煎服|USAGE]，[日一剂|USAGE]。"
    )
    p = build_prescription(text, ents, NORM)
    assert p.formula == ["柴胡疏肝散"]
    assert rows(p) == [
        ("柴胡", "柴胡", "", "10g", 10.0, "g", ""),
        ("白芍", "白芍", "", "15g", 15.0, "g", ""),
        ("炙甘草", "甘草", "炙", "6g", 6.0, "g", ""),
        ("生龙骨", "龙骨", "生", "30g", 30.0, "g", "先煎"),  # fallback: the model did not tag 先煎
        ("砂仁", "砂仁", "", "6g", 6.0, "g", "后下"),
    ]
    assert p.doses == "7剂"
    assert p.usage == ["水煎服", "日一剂"]
    assert [i.entity_start for i in p.items] == [text.index("柴胡1"), text.index("白芍"), text.index("炙甘草"),
                                                 text.index("生龙骨"), text.index("砂仁")]


def test_usage_in_full_width_brackets_and_herb_list_on_own_line() -> None:
    text, ents = parse(
        "处方：[逍遥散|FORMULA]合[四君子汤|FORMULA]加减。\n"
        "[柴胡|HERB][10g|DOSAGE]　[葶苈子|HERB][15g|DOSAGE]（[包煎|USAGE]）　[三七粉|HERB][3g|DOSAGE]（[冲服|USAGE]）\n"
        "[七剂|DOSAGE]，[日一剂|USAGE]，[早晚分服|USAGE]。"
    )
    p = build_prescription(text, ents, NORM)
    assert p.formula == ["逍遥散", "四君子汤"]
    assert [(i.name, i.usage) for i in p.items] == [("柴胡", ""), ("葶苈子", "包煎"), ("三七粉", "冲服")]
    assert p.doses == "七剂"
    assert p.items[0].amount == 10.0
    assert p.usage == ["日一剂", "早晚分服"]


def test_shared_dose_with_ge() -> None:
    text, ents = parse("处方：[柴胡|HERB]、[白芍|HERB]各[10g|DOSAGE]，[甘草|HERB][6g|DOSAGE]。")
    p = build_prescription(text, ents, NORM)
    assert [(i.name, i.dose) for i in p.items] == [("柴胡", "10g"), ("白芍", "10g"), ("甘草", "6g")]


def test_herbs_without_dose_outside_prescription_are_not_rows() -> None:
    text, ents = parse(
        "方选[四君子汤|FORMULA]：[党参|HERB][15g|DOSAGE]，[白术|HERB][10g|DOSAGE]。[5剂|DOSAGE]，[水煎服|USAGE]。\n"
        "方解：方中[党参|HERB][益气|EFFICACY]，[白术|HERB][健脾|EFFICACY]。"
    )
    p = build_prescription(text, ents, NORM)
    assert [i.name for i in p.items] == ["党参", "白术"]
    assert p.doses == "5剂" and p.usage == ["水煎服"]


def test_drugs_are_rows_only_inside_prescription_section() -> None:
    text, ents = parse(
        "现病史：规律服用[二甲双胍片|WM_DRUG][0.5g|DOSAGE] [tid|USAGE]。\n"
        "处方：[黄芪|HERB][30g|DOSAGE]，[六味地黄丸|PATENT_MEDICINE][6g|DOSAGE] [bid|USAGE]。\n"
        "西药：[阿司匹林肠溶片|WM_DRUG][100mg|DOSAGE] [qd|USAGE]。"
    )
    p = build_prescription(text, ents, NORM)
    assert [(i.name, i.dose, i.usage) for i in p.items] == [("黄芪", "30g", ""), ("六味地黄丸", "6g", "bid")]
    assert p.usage == []


def test_stopped_herb_and_dose_count_after_items() -> None:
    text, ents = parse(
        "二诊：服上方[7剂|DOSAGE]，嘱停用[番泻叶|HERB:history]。前方加[炒白术|HERB][15g|DOSAGE]，"
        "[续服|USAGE][14剂|DOSAGE]。"
    )
    p = build_prescription(text, ents, NORM)
    assert [(i.name, i.canonical, i.processing) for i in p.items] == [("炒白术", "白术", "炒")]
    assert p.doses == "14剂"
    assert p.usage == ["续服"]


def test_formula_in_history_is_not_prescribed() -> None:
    text, ents = parse("既往史：曾服[逍遥丸|FORMULA]。\n处方：[归脾汤|FORMULA]加减，[5剂|DOSAGE]。")
    p = build_prescription(text, ents, NORM)
    assert p.formula == ["归脾汤"]
    assert p.items == [] and p.doses == "5剂"


def test_empty_input() -> None:
    p = build_prescription("头痛3天。", [], NORM)
    assert p.to_dict() == {"formula": [], "items": [], "doses": "", "usage": []}
