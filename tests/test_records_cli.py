"""``tcm-desktop import`` and ``tcm-desktop db list|search|check|backup|restore|export``: output, exit codes, one-line errors."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from desktop_samples import run_cli

from tcm_desktop.records.exports import path_in_folder, safe_file_name

ROOT = Path(__file__).resolve().parents[1]


_run = run_cli


def _line(rid, text, ents, patient=None):
    d = {"id": rid, "text": text, "entities": ents}
    if patient:
        d["patient"] = patient
    return json.dumps(d, ensure_ascii=False)


@pytest.fixture
def imported(tmp_path):
    f = tmp_path / "ann.jsonl"
    f.write_text("\n".join([
        _line("p1", "主诉：头痛2天，无发热。", [{"start": 3, "end": 5, "label": "SYMPTOM", "assertion": "present"},
                                          {"start": 9, "end": 11, "label": "SYMPTOM", "assertion": "absent"}], "王小明"),
        _line("p2", "处方：川芎10g，白芷10g。", [{"start": 3, "end": 5, "label": "HERB"}], "李四"),
        "not json",
        _line("p3", "咳嗽", [{"start": 0, "end": 9, "label": "SYMPTOM"}]),
        _line("p4", "咳嗽", [{"start": 0, "end": 2, "label": "NOPE"}]),
    ]) + "\n", encoding="utf-8")
    db = tmp_path / "c.sqlite3"
    rc, out, err = _run(["import", "--db", str(db), "--reviewed", str(f)])
    return rc, out, err, db, f


def test_import_stores_good_lines_names_bad_ones(imported):
    rc, out, err, db, f = imported
    assert rc == 1 and "Traceback" not in err
    assert f"{f}:3: not JSON" in err and f"{f}:4: entity 0 offsets 0-9 are outside" in err
    assert f"{f}:5: entity 0 has unknown label 'NOPE'" in err
    rows = [json.loads(x) for x in out.splitlines()]
    assert [(r["external_id"], r["status"]) for r in rows] == [("p1", "saved"), ("p2", "saved")]
    rc2, out2, err2 = _run(["import", "--db", str(db), str(f)])  # again: nothing new
    assert [json.loads(x)["status"] for x in out2.splitlines()] == ["unchanged", "unchanged"]


def test_db_list_search_export(imported):
    _, _, _, db, _ = imported
    rc, out, err = _run(["db", "list", "--db", str(db)])
    rows = [json.loads(x) for x in out.splitlines()]
    assert rc == 0 and len(rows) == 2
    assert set(rows[0]) == {"record_id", "external_id", "source", "patient", "title", "versions", "updated",
                            "entities", "reviewed"}
    assert all(r["reviewed"] for r in rows) and {r["patient"] for r in rows} == {"王小明", "李四"}
    for q, want in (("头", {"p1"}), ("头痛", {"p1"}), ("王小明", {"p1"}), ("川芎10", {"p2"}), ("李", {"p2"})):
        rc, out, _ = _run(["db", "search", "--db", str(db), q])
        assert rc == 0 and {json.loads(x)["external_id"] for x in out.splitlines()} == want, q
    rc, out, _ = _run(["db", "list", "--db", str(db), "--format", "csv"])
    assert rc == 0 and list(csv.DictReader(io.StringIO(out)))[0].keys() >= {"record_id", "patient"}
    rc, out, _ = _run(["db", "export", "--db", str(db), "--reviewed-only"])
    recs = [json.loads(x) for x in out.splitlines()]
    p1 = next(r for r in recs if r["external_id"] == "p1")
    assert [(e["text"], e["assertion"], e["review"]) for e in p1["entities"]] == [
        ("头痛", "present", "accepted"), ("发热", "absent", "accepted")]
    assert p1["sections"]  # derived data recomputed from the text
    rc, out, _ = _run(["db", "export", "--db", str(db), "--format", "csv"])
    assert rc == 0 and len(list(csv.DictReader(io.StringIO(out)))) == 3


def test_db_check_backup_restore(imported, tmp_path):
    _, _, _, db, _ = imported
    rc, out, err = _run(["db", "check", "--db", str(db)])
    assert rc == 0 and out.startswith("ok: 2 records")
    copy = tmp_path / "copy.sqlite3"
    assert _run(["db", "backup", "--db", str(db), str(copy)])[0] == 0
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(os.urandom(5000))
    rc, out, err = _run(["db", "restore", "--db", str(db), str(bad)])
    assert rc == 1 and err.count("\n") == 1 and "not restored" in err
    rc, out, err = _run(["db", "restore", "--db", str(db), str(copy)])
    assert rc == 0 and "kept at" in out
    rc, out, err = _run(["db", "check", "--db", str(bad)])
    assert rc == 1 and err.startswith("error: ") and err.count("\n") == 1


@pytest.mark.parametrize("how", ["random", "truncated"])
def test_damaged_database_is_one_line_exit_3_in_a_real_process(tmp_path, how):
    db = tmp_path / "d.sqlite3"
    if how == "random":
        db.write_bytes(os.urandom(9000))
    else:
        _run(["import", "--db", str(db), "-"], _line("a", "头痛", []).encode())
        db.write_bytes(db.read_bytes()[:1500])
    for args in (["db", "list", "--db", str(db)], ["import", "--db", str(db), "-"]):
        p = subprocess.run([sys.executable, "-m", "tcm_desktop", *args], input=_line("b", "咳嗽", []).encode(),
                           capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
        err = p.stderr.decode()
        assert p.returncode == 3, err
        assert "Traceback" not in err and err.count("\n") == 1 and "damaged" in err


def test_pdf_names_from_ids_stay_inside_the_folder(tmp_path):
    used: set[str] = set()
    for rid in ("../../x", "/etc/passwd", "a/../../b", "CON", "..", "", "王小明:1?", "a" * 300, "x", "X"):
        p = path_in_folder(tmp_path, rid, ".pdf", used)
        assert p.parent == tmp_path.resolve() and p.suffix == ".pdf"
    for rid in ("../../x", "a/../b", "..\\..\\c"):
        name = safe_file_name(rid, ".pdf")
        assert "/" not in name and "\\" not in name and ".." not in name
    assert len(used) == 10  # x and X do not overwrite each other (case-insensitive file systems)
