"""Insertable tongue text and disagreement with the record's TONGUE/COATING entities."""

from __future__ import annotations

from tcm_desktop.structured import FoundEntity
from tcm_desktop.tongue import compare_with_record, tongue_text
from tcm_desktop.tongue.wording import body_class_of, coating_class_of


def _res(body="regular", coat="light_yellow", fis="none", tooth="light", ok=True):
    a = {"body_colour": body, "coating_colour": coat, "fissure": fis, "tooth_marks": tooth}
    return {"id": "x", "ok": ok, "message": None if ok else "photo blurred",
            "attributes": {k: {"value": v, "score": 0.8} for k, v in a.items()} if ok else {}}


def _ent(label, text, assertion="present"):
    return FoundEntity(start=0, end=len(text), label=label, text=text, assertion=assertion)


def test_tongue_text():
    assert tongue_text(_res()) == "舌淡红，边有齿痕，苔淡黄"
    assert tongue_text(_res(body="light", coat="white", fis="severe", tooth="none")) == "舌淡，裂纹明显，苔白"
    assert tongue_text(_res(ok=False)) == ""


def test_record_phrase_classes():
    assert body_class_of("舌淡红") == "regular"
    assert body_class_of("舌质淡") == "light"
    assert body_class_of("舌淡胖") == "light"
    assert body_class_of("舌红") == "dark"
    assert body_class_of("舌紫暗") == "dark"
    assert body_class_of("舌体胖大") is None
    assert coating_class_of("苔薄白") == "white"
    assert coating_class_of("苔黄腻") == "yellow"
    assert coating_class_of("苔薄黄") == "yellow"
    assert coating_class_of("苔微黄") == "light_yellow"
    assert coating_class_of("苔少") is None


def test_compare_flags_disagreements():
    msgs = compare_with_record(_res(), [_ent("TONGUE", "舌红"), _ent("COATING", "苔白腻")])
    assert len(msgs) == 2 and "舌色" in msgs[0] and "苔色" in msgs[1]


def test_compare_agreement_and_negation():
    assert compare_with_record(_res(), [_ent("TONGUE", "舌淡红"), _ent("COATING", "苔淡黄"), _ent("TONGUE", "边有齿痕")]) == []
    msgs = compare_with_record(_res(), [_ent("TONGUE", "齿痕", assertion="absent")])
    assert len(msgs) == 1 and "齿痕" in msgs[0]
    assert compare_with_record(_res(), [_ent("PULSE", "脉弦")]) == []


def test_compare_refused_photo_and_dicts():
    assert compare_with_record(_res(ok=False), [_ent("TONGUE", "舌红")]) == []
    msgs = compare_with_record(_res(), [{"label": "TONGUE", "text": "舌红", "assertion": "present"}])
    assert len(msgs) == 1
