"""The ``tcm-desktop structure`` contract: inputs, output shape, bad input handling."""

from __future__ import annotations

import json

from desktop_samples import run_cli

_run = run_cli


def test_txt_jsonl_and_stdin(tiny_model_dir, tmp_path) -> None:
    (tmp_path / "visit1.txt").write_text("主诉：头痛2天，无发热。舌红，苔黄，脉数。", encoding="utf-8")
    (tmp_path / "batch.jsonl").write_text(json.dumps({"id": "j1", "text": "胃脘胀痛3年。"}, ensure_ascii=False) + "\n", encoding="utf-8")
    rc, out, err = _run(["structure", "--model", str(tiny_model_dir), str(tmp_path / "visit1.txt"), str(tmp_path / "batch.jsonl"), "-"], "咳嗽1周。".encode())
    assert rc == 0, err
    lines = [json.loads(x) for x in out.splitlines()]
    assert [x["id"] for x in lines] == ["visit1", "j1", "stdin"]
    for rec in lines:
        assert set(rec) >= {"id", "entities", "sections", "prescription"}
        for e in rec["entities"]:
            assert set(e) == {"start", "end", "label", "text", "assertion", "score", "normalized"}
    text = (tmp_path / "visit1.txt").read_text(encoding="utf-8")
    for e in lines[0]["entities"]:
        assert text[e["start"]:e["end"]] == e["text"]


def test_bad_inputs_are_named_and_others_still_processed(tiny_model_dir, tmp_path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("头痛2天。", encoding="utf-8")
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00bad")
    (tmp_path / "empty.txt").write_text("   ", encoding="utf-8")
    (tmp_path / "mixed.jsonl").write_text('{"id": "ok", "text": "咳嗽"}\nnot json\n', encoding="utf-8")
    rc, out, err = _run(["structure", "--model", str(tiny_model_dir), str(tmp_path / "missing.txt"), str(tmp_path / "bin.txt"),
                         str(tmp_path / "empty.txt"), str(tmp_path / "mixed.jsonl"), str(good)])
    assert rc != 0
    assert "missing.txt" in err and "bin.txt: not valid UTF-8" in err and "empty.txt: empty text" in err and "mixed.jsonl:2: not JSON" in err
    assert "Traceback" not in err
    assert [json.loads(x)["id"] for x in out.splitlines()] == ["ok", "good"]


def test_missing_model_is_a_clear_error(tmp_path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("头痛", encoding="utf-8")
    rc, out, err = _run(["structure", "--model", str(tmp_path / "nomodel"), str(f)])
    assert rc == 2 and "model directory not found" in err and out == ""


def test_csv_db_and_pdf(tiny_model_dir, tmp_path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("主诉：头痛2天。处方：川芎10g，白芷10g。7剂，水煎服。", encoding="utf-8")
    db, pdf = tmp_path / "x.sqlite3", tmp_path / "a.pdf"
    rc, out, err = _run(["structure", "--format", "csv", "--model", str(tiny_model_dir), "--db", str(db), "--pdf", str(pdf), str(f)])
    assert rc == 0, err
    assert out.splitlines()[0].startswith("record_id") or "record" in out.splitlines()[0]
    assert pdf.read_bytes()[:4] == b"%PDF"
    from tcm_desktop.records.database import Database

    d = Database(db)
    try:
        (rid,) = d.find_records("a", str(f.resolve()))  # internal id; external id "a" from this file
        assert d.load_record(rid).text == f.read_text(encoding="utf-8")
    finally:
        d.close()


def test_db_identity_patient_photo_and_damaged_db(tiny_model_dir, tmp_path) -> None:
    """Two folders' visit1 are two records; `patient` and the --image photo are stored; a damaged --db exits 3."""
    from PIL import Image

    from tcm_desktop.records.database import Database

    for sub, text in (("a", "主诉：头痛2天。"), ("b", "主诉：咳嗽1周。")):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "visit1.txt").write_text(text, encoding="utf-8")
    j = tmp_path / "p.jsonl"
    j.write_text(json.dumps({"id": "v9", "text": "主诉：纳差。", "patient": "王小明"}, ensure_ascii=False) + "\n",
                 encoding="utf-8")
    photo = tmp_path / "tongue.jpg"
    Image.new("RGB", (256, 256), (190, 90, 90)).save(photo)
    db = tmp_path / "c.sqlite3"
    rc, out, err = _run(["structure", "--model", str(tiny_model_dir), "--db", str(db), "--image", str(photo),
                         str(tmp_path / "a" / "visit1.txt"), str(tmp_path / "b" / "visit1.txt"), str(j)])
    assert rc == 0, err
    d = Database(db)
    try:
        rows = d.history()
        assert sorted(h.external_id for h in rows) == ["v9", "visit1", "visit1"] and all(h.version == 1 for h in rows)
        assert [h.external_id for h in d.history("王小明")] == ["v9"]
        for h in rows:  # the photo and its analysis are saved with each record, as the GUI saves them
            (sha,) = d.record_photos(h.record_id)
            assert d.photo_bytes(sha) == photo.read_bytes() and d.photo_analysis(sha) is not None
    finally:
        d.close()
    rc, out, err = _run(["structure", "--model", str(tiny_model_dir), "--db", str(db), str(j)])
    assert rc == 0 and len(Database(db).history()) == 3  # the same line again: nothing new
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"\x00garbage" * 500)
    rc, out, err = _run(["structure", "--model", str(tiny_model_dir), "--db", str(bad), str(j)])
    assert rc == 3 and err.count("\n") == 1 and "damaged" in err and "Traceback" not in err
