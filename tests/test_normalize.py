"""Normalised values for herbs, syndromes, doses, exam results and times."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tcm_desktop.structured import FoundEntity
from tcm_desktop.text.values import Normalizer, parse_dosage, parse_exam_result, parse_number, parse_time


@pytest.fixture()
def norm() -> Normalizer:
    return Normalizer(
        herb_aliases={"炙甘草": ("甘草", "炙"), "熟地": ("熟地黄", ""), "山萸肉": ("山茱萸", "")},
        syndrome_synonyms={"肝郁脾虚": "肝郁脾虚证", "肝脾不调": "肝郁脾虚证", "气阴两虚型": "气阴两虚证"},
    )


def ent(label: str, text: str) -> FoundEntity:
    return FoundEntity(0, len(text), label, text)


@pytest.mark.parametrize("written,canonical,processing", [
    ("炙甘草", "甘草", "炙"),  # table
    ("熟地", "熟地黄", ""),  # table alias without processing
    ("麸炒白术", "白术", "麸炒"),  # two-character prefix before one-character one
    ("炒白术", "白术", "炒"),
    ("法半夏", "半夏", "法"),
    ("醋香附", "香附", "醋"),
    ("煅牡蛎", "牡蛎", "煅"),
    ("生龙骨", "龙骨", "生"),
    ("炒山萸肉", "山茱萸", "炒"),  # stripped rest is itself an alias
    ("生姜", "生姜", ""),  # a herb, not processed 姜
    ("姜黄", "姜黄", ""),
    ("柴胡", "柴胡", ""),
    ("甘草（炙）", "甘草", "炙"),
])
def test_herb(norm: Normalizer, written: str, canonical: str, processing: str) -> None:
    e = ent("HERB", written)
    assert norm.normalize_entity(e) == {"canonical": canonical, "processing": processing}
    assert e.normalized == {"canonical": canonical, "processing": processing}


def test_one_char_rest_is_stripped_only_when_known() -> None:
    assert Normalizer().herb("炒黄芪") == {"canonical": "黄芪", "processing": "炒"}  # 2-char rest, no table
    assert Normalizer().herb("炒艾") == {"canonical": "炒艾", "processing": ""}
    assert Normalizer(known_herbs=["艾"]).herb("炒艾") == {"canonical": "艾", "processing": "炒"}


@pytest.mark.parametrize("written,standard", [
    ("肝郁脾虚", "肝郁脾虚证"),
    ("肝郁脾虚证", "肝郁脾虚证"),
    ("肝郁脾虚型", "肝郁脾虚证"),
    ("肝脾不调", "肝郁脾虚证"),
    ("气阴两虚", "气阴两虚证"),  # 证 added because the standard list has that form
])
def test_syndrome(norm: Normalizer, written: str, standard: str) -> None:
    assert norm.normalize_entity(ent("SYNDROME", written))["standard"] == standard


def test_unknown_syndrome_is_flagged(norm: Normalizer) -> None:
    assert norm.syndrome("痰瘀互结") == {"standard": "痰瘀互结", "known": False}


@pytest.mark.parametrize("text,expected", [
    ("10g", {"amount": 10.0, "unit": "g"}),
    ("十五克", {"amount": 15.0, "unit": "g"}),
    ("1.5g", {"amount": 1.5, "unit": "g"}),
    ("30 g", {"amount": 30.0, "unit": "g"}),
    ("三剂", {"amount": 3.0, "unit": "剂"}),
    ("x7剂", {"amount": 7.0, "unit": "剂"}),
    ("共14剂", {"amount": 14.0, "unit": "剂"}),
    ("每次6g", {"amount": 6.0, "unit": "g", "per": "次"}),
    ("10-15g", {"amount": 10.0, "unit": "g", "amount_max": 15.0}),
    ("10ml", {"amount": 10.0, "unit": "ml"}),
    ("二十毫升", {"amount": 20.0, "unit": "ml"}),
    ("2粒", {"amount": 2.0, "unit": "粒"}),
    ("500μg", {"amount": 500.0, "unit": "μg"}),
    ("tid", {}),
])
def test_dosage(text: str, expected: dict) -> None:
    assert parse_dosage(text) == expected


def test_chinese_numerals() -> None:
    assert parse_number("十") == 10
    assert parse_number("十五") == 15
    assert parse_number("二十") == 20
    assert parse_number("一百二十") == 120
    assert parse_number("一百零五") == 105
    assert parse_number("半") == 0.5
    assert parse_number("两") == 2
    assert parse_number("克") is None


@pytest.mark.parametrize("text,expected", [
    ("150/95mmHg", {"systolic": 150, "diastolic": 95, "unit": "mmHg"}),
    ("146/88", {"systolic": 146, "diastolic": 88, "unit": "mmHg"}),
    ("7.8mmol/L", {"value": 7.8, "unit": "mmol/L"}),
    ("38.6℃", {"value": 38.6, "unit": "℃"}),
    ("102次/分", {"value": 102.0, "unit": "次/分"}),
    ("12.6×10^9/L", {"value": 12.6, "unit": "×10^9/L"}),
    ("<0.5ng/ml", {"value": 0.5, "unit": "ng/ml", "comparator": "<"}),
    ("阳性", {}),
    ("慢性浅表性胃炎伴糜烂", {}),
])
def test_exam_result(text: str, expected: dict) -> None:
    assert parse_exam_result(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("3年", {"value": 3, "unit": "年"}),
    ("3个月", {"value": 3, "unit": "月"}),
    ("3月余", {"value": 3, "unit": "月", "approximate": True}),
    ("20余年", {"value": 20, "unit": "年", "approximate": True}),
    ("半年前", {"value": 0.5, "unit": "年", "relation": "ago"}),
    ("2天", {"value": 2, "unit": "天"}),
    ("2024年", {}),
    ("2024年3月", {}),
    ("夜间", {}),
])
def test_time(text: str, expected: dict) -> None:
    assert parse_time(text) == expected


def test_other_labels_untouched(norm: Normalizer) -> None:
    e = ent("SYMPTOM", "头痛")
    assert norm.normalize_entity(e) == {}
    assert e.normalized == {}


def test_from_resources_reads_tables_and_extra_json(tmp_path: Path) -> None:
    (tmp_path / "HERB_ALIASES.tsv").write_text(
        "written\tcanonical\tprocessing\n# comment\n炙甘草\t甘草\t炙\n山萸肉\t山茱萸\n", encoding="utf-8")
    (tmp_path / "SYNDROME_SYNONYMS.tsv").write_text("肝郁脾虚\t肝郁脾虚证\n", encoding="utf-8")
    extra = tmp_path / "norm.json"
    extra.write_text(json.dumps({"herb_aliases": {"国老": ["甘草", ""]}, "syndrome_synonyms": {"肝旺脾虚": "肝郁脾虚证"}},
                                ensure_ascii=False), encoding="utf-8")
    n = Normalizer.from_resources(extra, lexicon_dir=tmp_path)
    assert n.herb("炙甘草") == {"canonical": "甘草", "processing": "炙"}
    assert n.herb("山萸肉") == {"canonical": "山茱萸", "processing": ""}
    assert n.herb("国老") == {"canonical": "甘草", "processing": ""}
    assert n.syndrome("肝旺脾虚") == {"standard": "肝郁脾虚证"}
    assert n.syndrome("肝郁脾虚") == {"standard": "肝郁脾虚证"}


def test_from_resources_without_files(tmp_path: Path) -> None:
    n = Normalizer.from_resources(lexicon_dir=tmp_path / "missing")
    assert n.herb("炙黄芪") == {"canonical": "黄芪", "processing": "炙"}
    assert n.syndrome("肝郁脾虚") == {"standard": "肝郁脾虚", "known": False}


def test_from_resources_default_tables_load() -> None:
    n = Normalizer.from_resources()  # the team's files, present or not
    assert n.herb("炙甘草")["canonical"] == "甘草"
