"""JSON (lossless) and CSV (one row per entity, Excel-friendly) exports."""

from __future__ import annotations

import csv
import json

from desktop_samples import sample_record  # noqa: E402

from tcm_desktop.records.exports import CSV_COLUMNS, from_json, to_json, write_csv, write_json  # noqa: E402


def test_json_one_record_round_trips(tmp_path):
    rec = sample_record("r1")
    p = write_json(tmp_path / "r.json", rec)
    raw = p.read_text(encoding="utf-8")
    assert "柴胡疏肝散" in raw  # readable Chinese, not \\u escapes
    data = json.loads(raw)
    assert isinstance(data, dict) and data["id"] == "r1"
    assert from_json(raw) == [rec]


def test_json_many_is_a_list():
    recs = [sample_record("a"), sample_record("b", "无发热，嗳气")]
    data = json.loads(to_json(recs))
    assert [d["id"] for d in data] == ["a", "b"]
    assert from_json(to_json(recs)) == recs


def test_csv_one_row_per_entity_with_record_id(tmp_path):
    a, b = sample_record("a"), sample_record("b", "无反酸，嗳气")
    p = write_csv(tmp_path / "e.csv", [a, b])
    assert p.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel
    with p.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0].keys()) == CSV_COLUMNS
    assert len(rows) == len(a.entities) + len(b.entities)
    assert {r["record_id"] for r in rows} == {"a", "b"}
    fan = next(r for r in rows if r["record_id"] == "b" and r["text"] == "反酸")
    assert (fan["label"], fan["label_zh"], fan["assertion"], fan["assertion_zh"]) == ("SYMPTOM", "症状", "absent", "否定")
    herb = next(r for r in rows if r["text"] == "炙甘草")
    assert herb["canonical"] == "甘草" and json.loads(herb["normalized"]) == {"canonical": "甘草"}
    first = [r for r in rows if r["record_id"] == "a"]
    assert [int(r["start"]) for r in first] == sorted(int(r["start"]) for r in first)
