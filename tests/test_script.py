"""Traditional script: conversion keeps every offset; spans come back in the doctor's characters."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tcm_desktop.structured import FoundEntity
from tcm_desktop.text.script import (
    ScriptView,
    is_traditional,
    model_text,
    to_model_script,
    to_traditional,
    to_traditional_same_length,
)
from tcm_desktop.text.sections import find_sections
from tcm_desktop.text.values import Normalizer

NER = Path(__file__).resolve().parents[1] / "models" / "ner"

TRAD_RECORD = (
    "主訴：心煩失眠3月。\n西醫診斷：甲狀腺功能減退症\n四診：\n"
    "食慾：不好，無滋味；睡眠：不好，入睡困難；寒熱：怕冷明顯；二便：調；口渴：無。\n"
    "舌淡紅，苔薄白，脈沉細。\n處方：乾薑6g，炙甘草6g，覆盆子10g。「遵醫囑」服用。"
)


def test_traditional_text_becomes_simplified_with_the_same_length() -> None:
    assert to_model_script("乾薑6g，頭髮，複方丹參滴丸") == "干姜6g，头发，复方丹参滴丸"
    assert to_model_script("覆盆子10g，反覆發作") == "覆盆子10g，反复发作"  # 覆 stays in the herb name
    assert to_model_script("「舌紅」『苔白』﹐脈弦") == "“舌红”‘苔白’，脉弦"
    assert to_model_script("头痛三天，伴頭暈") == "头痛三天，伴头晕"  # mixed text
    # Hong Kong / Taiwan variants and TCM spellings OpenCC's plain t2s leaves
    assert to_model_script("衞氣不固，着涼，黃耆30g，疎肝") == "卫气不固，着凉，黄芪30g，疏肝"
    plain = "主诉：胃脘胀痛3年。"
    assert to_model_script(plain) == plain


def test_script_detection() -> None:
    assert is_traditional(TRAD_RECORD)
    assert not is_traditional("主诉：胃脘胀痛3年，伴头晕。")
    assert not is_traditional("「舌红」")  # punctuation alone does not make a record traditional


def test_view_shows_standard_names_in_the_doctors_script() -> None:
    view = ScriptView.of("處方：乾薑6g，炙黃芪15g。")
    assert view.traditional and len(view.model) == len(view.original)
    assert view.display("干姜") == "乾薑"  # found in the record: the doctor's characters
    assert view.display("黄芪") == "黃芪"
    assert view.display("生地黄") == to_traditional("生地黄")  # not in the record: OpenCC s2t
    simp = ScriptView.of("处方：干姜6g。")
    assert not simp.traditional and simp.display("干姜") == "干姜"


def test_normaliser_reads_traditional_through_the_view() -> None:
    view = ScriptView.of("炙甘草6g，乾薑")
    norm = Normalizer.from_resources()
    e = FoundEntity(0, 3, "HERB", view.model[0:3])
    value = view.display_values(norm.normalize_entity(e))
    assert value == {"canonical": "甘草", "processing": "炙"}
    e2 = FoundEntity(6, 8, "HERB", view.model[6:8])
    assert view.display_values(norm.normalize_entity(e2))["canonical"] == "乾薑"


def test_sections_know_template_and_traditional_headings() -> None:
    secs = find_sections("主訴：頭痛\n四診：\n望診：神清\n問診：納可\n切診：脈弦\n西醫診斷：高血壓\n中醫診斷：眩暈")
    assert [s.name for s in secs] == ["chief_complaint", "four_examinations", "physical_exam", "inquiry",
                                      "tongue_pulse", "wm_diagnosis", "tcm_diagnosis"]
    assert [s.name for s in find_sections("四诊（2024-03-19）：诸症减轻")] == ["follow_up"]


def test_same_length_s2t_keeps_offsets_when_phrases_change_length() -> None:
    text = "患者头发干枯，于2024年就诊，方用干姜。"
    out = to_traditional_same_length(text)
    assert len(out) == len(text) and to_model_script(out) == text


_PIECES = st.sampled_from([
    "主诉：", "头痛", "头晕", "3天", "，", "。", "无发热", "干姜", "10g", "复方丹参滴丸", "舌淡红", "苔薄白",
    "脉弦细", "纳差", "眠可", "「", "」", "、", "\n", " ", "食欲：不好", "二便：调", "反复", "发作", "里急后重",
])


@given(st.lists(st.tuples(_PIECES, st.booleans()), min_size=1, max_size=30))
def test_conversion_keeps_length_on_random_mixes(parts) -> None:
    text = "".join(to_traditional(p) if trad else p for p, trad in parts)
    model = to_model_script(text)
    assert len(model) == len(text)
    # every piece round-trips (头发 -> 頭髮 -> 头发, 干姜 -> 乾薑 -> 干姜), so the model reads the simplified record
    assert model == "".join(p for p, _ in parts).replace("「", "“").replace("」", "”")


@pytest.fixture(scope="module")
def shipped_engine():
    from tcm_desktop.text.engine import StructuringEngine

    return StructuringEngine(NER)


def test_traditional_record_spans_are_its_own_characters(shipped_engine) -> None:
    rec = shipped_engine.structure(TRAD_RECORD, "hk1")
    assert rec.text == TRAD_RECORD
    assert rec.entities
    for e in rec.entities:
        assert e.text == TRAD_RECORD[e.start : e.end]
    found = {e.text: e for e in rec.entities}
    assert found["食慾：不好"].label == "SYMPTOM" and found["食慾：不好"].assertion == "present"
    assert found["口渴：無"].assertion == "absent"
    assert "寒熱" not in found  # a template key is a label, not a finding
    herbs = {i.name: i for i in rec.prescription.items}
    assert herbs["乾薑"].canonical == "乾薑" and herbs["炙甘草"].canonical == "甘草"
    assert {s.title for s in rec.sections} >= {"主訴", "西醫診斷", "四診", "處方"}


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_traditional_mixes_map_back_exactly(shipped_engine, data) -> None:
    """Clauses of a real test record, each left simplified or converted to traditional at random.

    Spans always map back to the doctor's own characters; a mix that is mainly traditional is read
    exactly as the simplified record (a mainly simplified one is read as written, so that simplified
    words such as 为著 are never "converted")."""
    records = _test_records()
    r = records[data.draw(st.integers(0, len(records) - 1))]
    clauses = r.text.split("，")
    flags = data.draw(st.lists(st.booleans(), min_size=len(clauses), max_size=len(clauses)))
    mixed = "，".join(to_traditional_same_length(c) if f else c for c, f in zip(clauses, flags))
    assert len(mixed) == len(r.text)
    got = shipped_engine.structure(mixed, r.id)
    assert got.text == mixed
    for e in got.entities:
        assert e.text == mixed[e.start : e.end]
    if model_text(mixed) == r.text:  # a mainly traditional mix is read as the simplified record: the same spans
        simp = shipped_engine.structure(r.text, r.id)
        assert [(e.start, e.end, e.label, e.assertion) for e in got.entities] == [
            (e.start, e.end, e.label, e.assertion) for e in simp.entities]


_CACHE: list = []


def _test_records():
    from tcm_desktop.training.team_records import load_pool

    if not _CACHE:
        _CACHE.extend(r for r in load_pool("test") if 80 < len(r.text) < 400)
    return _CACHE
