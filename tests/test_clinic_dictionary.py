"""The clinic dictionary: storage, terms from the doctor's review, the lexicon hook and the exact-match rule."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from tcm_desktop.records.database import Database
from tcm_desktop.records.service import terms_from_database
from tcm_desktop.structured import FoundEntity, Prescription, StructuredRecord
from tcm_desktop.text.clinic_dictionary import SOURCE, SOURCE_KEY, ClinicDictionary
from tcm_desktop.text.lexicon import Lexicon


def test_with_extra_adds_features_of_known_categories_only() -> None:
    lex = Lexicon({"SYMPTOM": ["头痛"], "HERB": ["柴胡"]})
    text = "患者胃痞满闷，头痛"
    assert lex.features(text)[2:6].sum() == 0
    extra = lex.with_extra([("胃痞满闷", "SYMPTOM"), ("满闷", "NOT_A_CATEGORY")])
    f = extra.features(text)
    assert f.shape == lex.features(text).shape  # same width: the model runs unchanged
    assert f[2, 0] == 1 and f[3, 1] == 1 and f[4, 1] == 1 and f[5, 2] == 1  # B M M E of SYMPTOM
    assert np.array_equal(f[7:], lex.features(text)[7:])
    assert "胃痞满闷" not in lex.terms("SYMPTOM")  # the original is untouched


def test_rule_proposes_uncovered_exact_matches_longest_first() -> None:
    d = ClinicDictionary({"慢性胃炎": "WM_DISEASE", "胃炎": "WM_DISEASE", "胃痞": "TCM_DISEASE", "痞": "SYMPTOM"})
    text = "慢性胃炎，胃痞，胃炎。胃痞"
    model = [FoundEntity(5, 7, "SYMPTOM", "胃痞")]  # the model found the first 胃痞 (with another label)
    got = [(e.start, e.end, e.label, e.normalized[SOURCE_KEY]) for e in d.propose(text, model)]
    assert got == [(0, 4, "WM_DISEASE", SOURCE), (8, 10, "WM_DISEASE", SOURCE), (11, 13, "TCM_DISEASE", SOURCE)]
    d.rule = False
    assert d.propose(text, model) == []


def test_save_load_and_bad_labels(tmp_path) -> None:
    d = ClinicDictionary()
    d.add(" 胃痞 ", "TCM_DISEASE")
    with pytest.raises(ValueError):
        d.add("x", "NOPE")
    path = d.save(tmp_path / "dict.json")
    assert ClinicDictionary.load(path).terms == {"胃痞": "TCM_DISEASE"}
    assert ClinicDictionary.load(tmp_path / "missing.json").terms == {}
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValueError, match="cannot be read"):
        ClinicDictionary.load(path)


def test_terms_from_database_takes_only_the_doctors_additions_and_corrections(tmp_path) -> None:
    db_path = tmp_path / "c.db"
    db = Database(db_path)
    text = "胃痞，纳呆，头痛"
    ents = [FoundEntity(0, 2, "TCM_DISEASE", "胃痞", status="added"), FoundEntity(3, 5, "SYMPTOM", "纳呆", status="corrected"),
            FoundEntity(6, 8, "SYMPTOM", "头痛", status="unreviewed")]
    db.save_record(StructuredRecord("r1", text, ents, [], Prescription(), "v"))
    db.save_record(StructuredRecord("r2", "胃痞", [FoundEntity(0, 2, "SYMPTOM", "胃痞", status="added")], [], Prescription(), "v"))
    db.save_record(StructuredRecord("r3", "胃痞", [FoundEntity(0, 2, "TCM_DISEASE", "胃痞", status="corrected")], [], Prescription(), "v"))
    db.close()
    assert terms_from_database(db_path) == [("纳呆", "SYMPTOM"), ("胃痞", "TCM_DISEASE")]
    d = ClinicDictionary({"纳呆": "WM_DISEASE"})
    assert d.merge(terms_from_database(db_path)) == 1 and d.terms["纳呆"] == "WM_DISEASE"  # the doctor's own entry wins


def test_engine_applies_the_dictionary_without_retraining(tmp_path) -> None:
    """On the shipped model: the lexicon hook alone fixes labels; the rule adds what the model skips."""
    from tcm_desktop.cli import main
    from tcm_desktop.text.engine import StructuringEngine

    # a sentence the shipped model gets wrong on both terms (checked first: the premise of the test)
    text = "头晕3天，既往瘕聚病，自服ZK合剂。舌红，苔黄。"
    plain = {(e.text, e.label) for e in StructuringEngine().structure(text).entities}
    assert ("瘕聚病", "TCM_DISEASE") not in plain and ("ZK合剂", "PATENT_MEDICINE") not in plain
    d = ClinicDictionary({"瘕聚病": "TCM_DISEASE", "ZK合剂": "PATENT_MEDICINE"}, rule=False)
    engine = StructuringEngine(dictionary=d)
    assert "瘕聚病" in engine.ner.lexicon.terms("TCM_DISEASE")
    found = {(e.text, e.label) for e in engine.structure(text).entities}
    assert {("瘕聚病", "TCM_DISEASE"), ("ZK合剂", "PATENT_MEDICINE")} <= found  # features only: the model decided

    text = "患者自述：头晕3天。"
    d = ClinicDictionary({"自述": "EXAM"})
    assert not any(e.text == "自述" for e in StructuringEngine().structure(text).entities)
    rec = StructuringEngine(dictionary=d).structure(text)
    hit = [e for e in rec.entities if e.text == "自述"]
    assert hit and hit[0].label == "EXAM" and hit[0].normalized[SOURCE_KEY] == SOURCE  # the rule proposed it
    assert [e.start for e in rec.entities] == sorted(e.start for e in rec.entities)
    # the CLI takes the same dictionary file
    (tmp_path / "r.txt").write_text(text, encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    rc = main(["structure", "--dictionary", str(d.save(tmp_path / "d.json")), str(tmp_path / "r.txt")], stdout=out, stderr=err)
    assert rc == 0, err.getvalue()
    assert any(e["text"] == "自述" and e["label"] == "EXAM" for e in json.loads(out.getvalue())["entities"])
