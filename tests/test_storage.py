"""The SQLite store: versions, exact round-trip, audit, search (Chinese substrings), photos, drafts, migrations."""

from __future__ import annotations

import io
import sqlite3
import threading

import pytest
from desktop_samples import SAMPLE_TEXT, sample_record  # noqa: E402

from tcm_desktop.records.database import SCHEMA_VERSION, Database, StorageError  # noqa: E402


@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "t.sqlite3")
    yield d
    d.close()


def test_file_is_real_sqlite_in_wal_mode(db, tmp_path):
    assert (tmp_path / "t.sqlite3").exists()
    assert db.db.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
    assert db.schema_version == SCHEMA_VERSION
    tables = set(db.db.table_names())
    for t in ("patients", "records", "record_versions", "entities", "review_actions", "photos",
              "photo_analyses", "record_photos", "drafts", "records_fts"):
        assert t in tables


def test_save_and_load_exactly_as_saved(db):
    rec = sample_record()
    rec.entities[0].status = "accepted"
    rec.entities[1].normalized = {"canonical": "三年", "days": 1095}
    rec.tongue = {"colour": "淡红"}
    rid, ver = db.save_record(rec, user="李医生")
    assert rid == rec.id and rid  # a fresh id was assigned and kept on the record
    assert ver == 1
    back = db.load_record(rid)
    assert back == rec
    assert back.to_dict() == rec.to_dict()


def test_versions_append_and_old_versions_stay(db):
    rec = sample_record("r1")
    db.save_record(rec)
    rec.entities[0].label = "SIGN"
    rec.entities[0].status = "corrected"
    rid, ver = db.save_record(rec, actions=[{"action": "relabel", "before": {"label": "SYMPTOM"}, "after": {"label": "SIGN"}}])
    assert (rid, ver) == ("r1", 2)
    assert db.load_record("r1", 1).entities[0].label == "SYMPTOM"
    assert db.load_record("r1").entities[0].label == "SIGN"
    assert [v["version"] for v in db.versions("r1")] == [1, 2]
    rows = db.entity_rows("r1")
    assert len(rows) == len(rec.entities)
    assert rows[0]["label"] == "SIGN" and rows[0]["status"] == "corrected" and rows[0]["version"] == 2
    acts = db.actions("r1")
    assert [a.action for a in acts] == ["relabel"]
    assert acts[0].before == {"label": "SYMPTOM"} and acts[0].version == 2


def test_load_missing_raises(db):
    with pytest.raises(StorageError):
        db.load_record("nope")
    db.save_record(sample_record("r1"))
    with pytest.raises(StorageError):
        db.load_record("r1", 7)


def test_history_search_matches_chinese_substrings(db):
    db.save_record(sample_record("r1"))
    other = sample_record("r2", "主诉：头痛2天，无发热。")
    pid = db.add_patient("王小明", "男", 1970)
    db.save_record(other, patient_id=pid)
    all_rows = db.history()
    assert [h.record_id for h in all_rows] == ["r2", "r1"]  # newest first
    assert all_rows[0].patient_name == "王小明"
    assert [h.record_id for h in db.history("柴胡疏肝")] == ["r1"]  # FTS trigram, mid-word
    assert [h.record_id for h in db.history("胃脘胀")] == ["r1"]
    assert [h.record_id for h in db.history("头痛")] == ["r2"]  # 2 characters: LIKE fallback
    assert [h.record_id for h in db.history("王小")] == ["r2"]  # patient name
    assert db.history("不存在的词") == []
    assert "柴胡疏肝" in db.history("柴胡疏肝")[0].snippet
    assert db.history('"引号%_') == []  # quotes and LIKE wildcards are literal, not syntax errors


def test_search_follows_current_version(db):
    rec = sample_record("r1")
    db.save_record(rec)
    rec.text = "完全不同的内容：咳嗽三天"
    rec.entities = []
    db.save_record(rec)
    assert db.history("柴胡疏肝") == []
    assert [h.record_id for h in db.history("咳嗽三天")] == ["r1"]


def test_audit_log_and_delete(db):
    db.save_record(sample_record("r1"))
    db.log_action("r1", "accept", {"start": 0}, {"status": "accepted"}, user="u")
    db.delete_record("r1")
    assert not db.record_exists("r1")
    acts = db.actions("r1")
    assert [a.action for a in acts] == ["accept", "delete_record"]
    assert all(a.before is None and a.after is None for a in acts)  # no clinical text is left behind


def test_photos_are_content_addressed_and_linked(db):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (32, 20), (200, 80, 80)).save(buf, "PNG")
    data = buf.getvalue()
    sha = db.add_photo(data)
    assert db.add_photo(data) == sha  # stored once
    assert db.photo_bytes(sha) == data
    info = db.photo_info(sha)
    assert (info["width"], info["height"]) == (32, 20)
    db.save_record(sample_record("r1"))
    db.link_photo("r1", sha)
    db.link_photo("r1", sha)
    assert db.record_photos("r1") == [sha]
    assert db.photo_analysis(sha) is None
    db.save_photo_analysis(sha, {"tongue": "淡红"}, "tongue-0")
    db.save_photo_analysis(sha, {"tongue": "红"}, "tongue-1")
    assert db.photo_analysis(sha) == {"tongue": "红"}
    assert db.add_photo(b"not an image")  # undecodable bytes are still stored, without size
    assert db.photo_info(db.add_photo(b"not an image"))["width"] is None


def test_drafts(db):
    assert db.load_draft("unsaved") is None
    db.save_draft("unsaved", "主诉：头")
    db.save_draft("unsaved", "主诉：头痛")
    text, at = db.load_draft("unsaved")
    assert text == "主诉：头痛" and at
    db.clear_draft("unsaved")
    assert db.load_draft("unsaved") is None


def test_reopen_file_keeps_data_and_does_not_remigrate(tmp_path):
    p = tmp_path / "x.sqlite3"
    with Database(p) as d:
        d.save_record(sample_record("r1"))
    with Database(p) as d:
        assert d.load_record("r1").text == SAMPLE_TEXT
        assert d.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert not (tmp_path / "backups").exists()  # no migration ran, so no pre-migration copy


def test_newer_schema_is_refused(tmp_path):
    p = tmp_path / "new.sqlite3"
    Database(p).close()
    conn = sqlite3.connect(p)
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="newer"):
        Database(p)


def test_concurrent_writer_thread_and_reader(tmp_path):
    """A batch import writes from a worker thread with its own connection while the GUI reads."""
    p = tmp_path / "c.sqlite3"
    main = Database(p)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            with Database(p) as w:
                for i in range(20):
                    w.save_record(sample_record(f"b{i}"))
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=writer)
    t.start()
    while t.is_alive():
        main.history()
    t.join()
    assert not errors
    assert len(main.history()) == 20
    main.close()
