"""Insights core: counts, confidence and lift against the hand-counted toy clinic; 加减; similar cases."""

from __future__ import annotations

import math

import pytest

from tcm_desktop.insights.rules import mine_kind, mine_rules, records_for_rule
from tcm_desktop.insights.similar import similar_cases
from tcm_desktop.insights.source import load_transactions
from tcm_desktop.insights.transactions import from_structured, item_name
from tcm_desktop.structured import FoundEntity, Prescription, PrescriptionItem
from tcm_desktop.text.compositions import FormulaBook, Variant, build_book, default_book
from tcm_desktop.text.modifications import compare
from tcm_desktop.text.values import Normalizer
from tests.insights_toy import TOY, make_toy_db


@pytest.fixture()
def toy(tmp_path):
    return load_transactions(make_toy_db(tmp_path / "toy.sqlite3"))


def _by_key(rules):
    return {(r.antecedent[0][1], r.consequent[0][1]): r for r in rules}


def test_transactions_keep_only_present_items_of_the_latest_version(toy):
    assert [t.record_id for t in toy] == ["r1", "r2", "r3", "r4", "r5"]
    items = {t.record_id: {n for _, n in t.items} for t in toy}
    assert items["r1"] == {"头痛", "恶寒", "风寒束表证", "荆防败毒散", "荆芥", "防风"}  # no 发热 (absent), no 咳嗽 (old version)
    assert "风寒束表证" in items["r2"] and "甘草" in items["r2"] and "炙甘草" not in items["r2"]
    assert items["r4"] == {"头痛"}  # 发热 history, 风寒束表证 possible
    assert items["r5"] == {"乏力", "恶寒"}  # 风热犯表证 family
    assert [t.reviewed for t in toy] == [True, True, False, False, False]


def test_symptom_syndrome_counts_confidence_lift_by_hand(toy):
    rules = _by_key(mine_kind(toy, "symptom-syndrome", min_count=1))
    r = rules[("头痛", "风寒束表证")]
    assert (r.count, r.antecedent_count, r.consequent_count, r.n) == (2, 4, 2, 5)
    assert r.support == pytest.approx(0.4) and r.confidence == pytest.approx(0.5)
    assert r.lift == pytest.approx(1.25) and r.conviction == pytest.approx(1.2)
    r = rules[("恶寒", "风寒束表证")]
    assert r.count == 2 and r.confidence == pytest.approx(2 / 3) and r.lift == pytest.approx(5 / 3)
    # 发热 is present only in r3: negated (r1) and past (r4) fevers do not count
    r = rules[("发热", "风热犯表证")]
    assert (r.count, r.antecedent_count) == (1, 1) and r.confidence == 1.0 and math.isinf(r.conviction)
    assert r.to_json()["conviction"] is None
    # 风热犯表证 of r5 is a family history: 乏力/恶寒 → 风热犯表证 must not exist
    assert ("乏力", "风热犯表证") not in rules and ("恶寒", "风热犯表证") not in rules
    assert set(rules) == {("头痛", "风寒束表证"), ("恶寒", "风寒束表证"), ("头痛", "风热犯表证"), ("发热", "风热犯表证")}


def test_thresholds_kinds_and_records_behind_a_rule(toy):
    two = mine_kind(toy, "symptom-syndrome", min_count=2)
    assert [(r.antecedent[0][1], r.consequent[0][1]) for r in two] == [("恶寒", "风寒束表证"), ("头痛", "风寒束表证")]
    assert [r.key for r in mine_kind(toy, "symptom-syndrome", min_count=2, min_confidence=0.6)] == [
        ("symptom-syndrome", ("恶寒",), ("风寒束表证",))]
    sf = mine_kind(toy, "syndrome-formula", min_count=2)
    assert [(r.key, r.count, r.confidence, r.lift) for r in sf] == [
        (("syndrome-formula", ("风寒束表证",), ("荆防败毒散",)), 2, 1.0, 2.5)]
    fh = {r.key for r in mine_kind(toy, "formula-herb", min_count=2)}
    assert ("formula-herb", ("荆防败毒散",), ("荆芥",)) in fh and ("formula-herb", ("荆芥",), ("荆防败毒散",)) in fh
    assert not any("甘草" in k[1] + k[2] for k in fh)  # only in r2: below min_count 2
    assert [r.key for r in mine_kind(toy, "symptom-disease", min_count=1)] == [
        ("symptom-disease", ("发热",), ("感冒",)), ("symptom-disease", ("头痛",), ("感冒",))]
    r = two[1]
    assert [t.record_id for t in records_for_rule(toy, r)] == ["r1", "r2"]
    assert len(mine_rules(toy, min_count=2)) == 2 + 1 + len(fh)
    with pytest.raises(ValueError, match="unknown rule kind"):
        mine_rules(toy, ["nope"])


def test_reviewed_only_and_longer_antecedents(tmp_path):
    db = make_toy_db(tmp_path / "toy.sqlite3")
    reviewed = load_transactions(db, reviewed_only=True)
    assert [t.record_id for t in reviewed] == ["r1", "r2"]
    pair = mine_kind(load_transactions(db), "symptom-syndrome", min_count=2, max_antecedent=2)
    r = next(r for r in pair if len(r.antecedent) == 2)
    assert [n for _, n in r.antecedent] == ["头痛", "恶寒"] or [n for _, n in r.antecedent] == ["恶寒", "头痛"]
    assert r.count == 2 and r.antecedent_count == 2 and r.confidence == 1.0 and r.lift == pytest.approx(2.5)


def test_item_name_uses_the_standard_form():
    assert item_name("HERB", "炙甘草", {"canonical": "甘草", "processing": "炙"}) == "甘草"
    assert item_name("SYNDROME", "肝郁脾虚", {"standard": "肝郁脾虚证"}) == "肝郁脾虚证"
    assert item_name("SYMPTOM", " 头痛 ", {}) == "头痛"


def test_modifications_against_a_known_formula():
    book = FormulaBook({"四君子汤": [Variant("四君子汤_1", ("人参", "白术", "茯苓", "甘草"))],
                        "左金丸": [Variant("左金丸", ("黄连", "吴茱萸"))]})
    items = [PrescriptionItem("党参", "党参"), PrescriptionItem("炒白术", "白术"), PrescriptionItem("茯苓", "茯苓"),
             PrescriptionItem("炙甘草", "甘草"), PrescriptionItem("陈皮", "陈皮")]
    m = compare(Prescription(formula=["四君子汤加减"], items=items), book)
    assert m.formulas[0].variant == "四君子汤_1" and m.formulas[0].removed == ("人参",)
    assert m.added == ("党参", "陈皮")
    assert m.summary() == "四君子汤加减：加 党参、陈皮；减 人参"
    # two formulas at once (合方): herbs of either are not "added"
    both = compare(Prescription(formula=["四君子汤", "左金丸"], items=items + [PrescriptionItem("黄连", "黄连")]), book)
    assert both.formulas[1].removed == ("吴茱萸",) and both.added == ("党参", "陈皮")
    # a formula not in the table: named, and then no herb can be called "added" (it may belong to that formula)
    partial = compare(Prescription(formula=["四君子汤", "无名方"], items=items), book)
    assert [f.known for f in partial.formulas] == [True, False] and partial.added == ()
    assert partial.summary() == "四君子汤：减 人参；无名方组成不在方剂表中，未列加味"
    # only the additions written (补阳还五汤加全蝎): no herb of the formula is claimed removed
    extra = compare(Prescription(formula=["四君子汤"], items=[PrescriptionItem("全蝎", "全蝎", entity_start=0)]), book)
    assert extra.formulas[0].removed == () and extra.summary() == "四君子汤：加 全蝎"
    # a patent medicine in the prescription block is not an added herb
    rows = [PrescriptionItem("人参", "人参", entity_start=0), PrescriptionItem("白术", "白术", entity_start=3),
            PrescriptionItem("茯苓", "茯苓", entity_start=6), PrescriptionItem("甘草", "甘草", entity_start=9),
            PrescriptionItem("香砂养胃丸", "香砂养胃丸", entity_start=12)]
    ents = [FoundEntity(0, 2, "HERB", "人参"), FoundEntity(3, 5, "HERB", "白术"), FoundEntity(6, 8, "HERB", "茯苓"),
            FoundEntity(9, 11, "HERB", "甘草"), FoundEntity(12, 17, "PATENT_MEDICINE", "香砂养胃丸")]
    assert compare(Prescription(formula=["四君子汤"], items=rows), book, ents).summary() == "四君子汤：原方未加减"
    assert compare(Prescription(formula=["四君子汤"], items=rows), book).added == ("香砂养胃丸",)
    # a formula named without herbs: nothing to say
    assert compare(Prescription(formula=["四君子汤加减"]), book).summary() == ""
    assert compare(Prescription(formula=["无名方"], items=items), book).summary() == ""


def test_build_book_picks_variants_and_normalises_herbs():
    rel = [
        {"node_1": "方名\t甲方", "relation": "prescription type", "node_2": "处方\t甲方_1"},
        {"node_1": "方名\t甲方", "relation": "prescription type", "node_2": "处方\t甲方_2"},
        {"node_1": "处方\t甲方_1", "relation": "composition", "node_2": "中药名\t炙甘草"},
        {"node_1": "处方\t甲方_1", "relation": "composition", "node_2": "中药名\t黄耆"},
        {"node_1": "处方\t甲方_2", "relation": "composition", "node_2": "中药名\t丹皮"},
        {"node_1": "处方\t甲方_2", "relation": "composition", "node_2": "中药名\t茯苓"},
        {"node_1": "方名\t甲方", "relation": "another name", "node_2": "别名\t乙方"},
    ]
    book = build_book(rel, Normalizer({"炙甘草": ("甘草", "炙"), "丹皮": ("牡丹皮", "")}))
    assert book.variants("乙方加味") == [Variant("甲方_1", ("甘草", "黄芪")), Variant("甲方_2", ("牡丹皮", "茯苓"))]
    m = compare(Prescription(formula=["甲方"], items=[PrescriptionItem("茯苓", "茯苓"), PrescriptionItem("白术", "白术")]),
                FormulaBook.from_json(book.to_json()))
    assert m.formulas[0].variant == "甲方_2" and m.formulas[0].removed == ("牡丹皮",) and m.added == ("白术",)


def test_shipped_compositions_cover_the_knowledge_graph():
    book = default_book()
    assert len(book) == 266
    assert set(book.variants("补阳还五汤")[0].herbs) == {"黄芪", "当归", "赤芍", "地龙", "川芎", "桃仁", "红花"}


def test_similar_cases_rank_by_shared_present_findings(toy):
    target = from_structured(TOY[1])  # r2: 头痛 恶寒 …
    out = similar_cases(target, toy, k=3)
    # r1 shares both (1.0), r4 shares 头痛 of {头痛} (1/2), r3 and r5 one of three (1/3, ties by id)
    assert [c.record_id for c in out] == ["r1", "r4", "r3"]
    assert out[0].shared == ("头痛", "恶寒") and out[0].score > out[1].score
    assert all(c.record_id != "r2" for c in out)


def test_pair_counting_agrees_with_efficient_apriori_on_random_clinics():
    """The numpy cross-pair count (default path) gives exactly the one-item rules efficient-apriori finds."""
    import random

    from tcm_desktop.insights.transactions import KINDS, Transaction

    rng = random.Random(7)
    vocab = [(label, f"{label[:2]}{i}") for label in sorted({lb for k in KINDS.values() for lb in k.labels})
             for i in range(6)]
    tx = [Transaction(f"t{j}", frozenset(rng.sample(vocab, rng.randint(0, 12)))) for j in range(300)]
    for kind in KINDS:
        fast = {(r.key, r.count, r.antecedent_count, r.consequent_count)
                for r in mine_kind(tx, kind, min_count=3)}
        slow = {(r.key, r.count, r.antecedent_count, r.consequent_count)
                for r in mine_kind(tx, kind, min_count=3, method="apriori")}
        longer = {(r.key, r.count, r.antecedent_count, r.consequent_count)
                  for r in mine_kind(tx, kind, min_count=3, max_antecedent=2)
                  if len(r.antecedent) == 1 and len(r.consequent) == 1}
        assert fast == slow == longer and len(fast) > 10, kind


def test_modifications_in_the_pdf_report(tmp_path):
    import shutil
    import subprocess

    from tcm_desktop.records.report_pdf import write_report
    from tests.insights_toy import formula_record

    rec = formula_record()
    assert compare(rec.prescription, entities=rec.entities).summary() == "补阳还五汤：加 全蝎；减 红花"
    pdf = write_report(tmp_path / "rx.pdf", rec)
    if shutil.which("pdftotext"):  # the text check needs poppler-utils (installed by `make test`)
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "加减：补阳还五汤：加 全蝎；减 红花" in text.replace("\n", "")
    else:
        assert pdf.stat().st_size > 1000


@pytest.mark.data
def test_shipped_compositions_are_what_the_build_command_writes(shared_data, tmp_path):
    from tcm_desktop.config import resources_dir
    from tcm_desktop.text.compositions import RESOURCE, main

    out = tmp_path / "compositions.json"
    assert main(["--kg", str(shared_data / "text" / "lex_fengxi_kg"), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == (resources_dir() / RESOURCE).read_text(encoding="utf-8")
    assert main(["--kg", str(tmp_path / "missing"), "--out", str(out)]) == 1
