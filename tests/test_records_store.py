"""Records a clinic can trust: identity, one-transaction saves, migrations, damaged/locked files, deletion, backups."""

from __future__ import annotations

import io
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from desktop_samples import sample_record

from tcm_desktop.records import backup as bk
from tcm_desktop.records.database import (
    SCHEMA_VERSION,
    Database,
    DatabaseBusy,
    DatabaseDamaged,
    PhotoInput,
    StorageError,
    _migration_1,
)
from tcm_desktop.records.inputs import InputRecord, read_inputs
from tcm_desktop.records.service import RecordService

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "s.sqlite3")
    yield d
    d.close()


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 90, 90)).save(buf, "PNG")
    return buf.getvalue()


# -- identity --------------------------------------------------------------------------
def test_same_file_name_in_two_folders_is_two_records(db, tmp_path):
    for sub, text in (("a", "主诉：头痛2天。"), ("b", "主诉：咳嗽1周。")):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "visit1.txt").write_text(text, encoding="utf-8")
    problems: list[str] = []
    items = list(read_inputs([str(tmp_path / "a" / "visit1.txt"), str(tmp_path / "b" / "visit1.txt")], None, problems))
    svc = RecordService(db)
    results = [svc.store_import(i, sample_record(i.external_id, i.text)) for i in items]
    assert not problems and len({r.record_id for r in results}) == 2
    assert all(r.version == 1 and r.created for r in results)
    assert sorted(h.external_id for h in db.history()) == ["visit1", "visit1"]
    assert {db.load_record(r.record_id).text for r in results} == {"主诉：头痛2天。", "主诉：咳嗽1周。"}


def test_reimport_same_line_changes_nothing_other_text_is_a_new_record(db):
    svc = RecordService(db)
    inp = InputRecord("v1", "主诉：头痛2天。", "/clinic/a.jsonl", patient="王小明")
    first = svc.store_import(inp, sample_record("v1", inp.text))
    counts = db.table_counts()
    again = svc.store_import(inp, sample_record("v1", inp.text))
    assert again.unchanged and again.record_id == first.record_id and db.table_counts() == counts
    edited = InputRecord("v1", "主诉：头痛3天。", "/clinic/a.jsonl")
    other = svc.store_import(edited, sample_record("v1", edited.text))
    assert other.created and other.record_id != first.record_id and other.version == 1
    assert [v["version"] for v in db.versions(first.record_id)] == [1]  # never a version of the first
    assert db.history("王小明")[0].record_id == first.record_id  # 3-character patient name


def test_edit_of_a_saved_record_is_a_new_version(db):
    svc = RecordService(db)
    rec = sample_record("", "主诉：头痛2天。")
    r1 = svc.save(rec, patient_name="李四")
    rec.text = "主诉：头痛3天。"
    rec.entities = []
    r2 = svc.save(rec)
    assert (r1.record_id, r1.version, r2.version) == (r2.record_id, 1, 2)
    assert len(db.patients()) == 1 and db.history("李四")


# -- one transaction per save ------------------------------------------------------------
def test_a_failing_save_leaves_no_orphan_rows(db, monkeypatch):
    before = db.table_counts()

    def boom(*a, **k):
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Database, "_store_photo", boom)
    with pytest.raises(StorageError):
        db.save_record(sample_record("r1"), patient_name="王小明", photos=[PhotoInput(_png(), {"ok": True})])
    assert db.table_counts() == before
    assert not db.conn.in_transaction


def test_save_with_photo_and_drafts_is_complete(db):
    db.save_draft("unsaved", "主诉：头")
    rid, ver = db.save_record(sample_record(""), patient_name="王小明",
                              photos=[PhotoInput(_png(), {"ok": True, "attributes": {}}, "t-1")],
                              clear_drafts=["unsaved"])
    assert db.record_photos(rid) and db.photo_analysis(db.record_photos(rid)[0])["ok"] is True
    assert db.load_draft("unsaved") is None


# -- durability settings --------------------------------------------------------------------
def test_pragmas_chosen_for_durability(db):
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: survives power loss
    assert db.conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
    assert db.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


# -- migrations -----------------------------------------------------------------------------
def _v1_file(path: Path) -> None:
    conn = sqlite3.connect(path)
    _migration_1(conn)
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version VALUES (1)")
    conn.execute("INSERT INTO records VALUES ('visit1', NULL, 't', '2024', '2024', 1)")
    conn.execute("INSERT INTO record_versions VALUES ('visit1', 1, '头痛', ?, '', '2024', '')",
                 ('{"id": "visit1", "text": "头痛"}',))
    conn.execute("INSERT INTO records_fts VALUES ('visit1', '头痛')")
    conn.commit()
    conn.close()


def test_v1_file_is_backed_up_then_migrated(tmp_path):
    p = tmp_path / "old.sqlite3"
    _v1_file(p)
    with Database(p) as d:
        assert d.schema_version == SCHEMA_VERSION
        info = d.record_info("visit1")
        assert (info["external_id"], info["source"]) == ("visit1", "legacy")
        assert d.load_record("visit1").text == "头痛"
    (pre,) = (tmp_path / "backups").glob("old-pre-v1-*.sqlite3")
    assert bk.check_file(pre) == []  # the copy is a sound v1 database


_KILL_MIGRATION = """
import os, signal, sys
from tcm_desktop.records import database as d
real = d.MIGRATIONS[1]
def half(conn):
    conn.execute("ALTER TABLE records ADD COLUMN external_id TEXT")  # part of the migration ran...
    os.kill(os.getpid(), signal.SIGKILL)                            # ...then the process dies
d.MIGRATIONS[1] = half
d.Database(sys.argv[1])
"""


def test_migration_killed_part_way_rolls_back_and_the_next_start_migrates(tmp_path):
    p = tmp_path / "old.sqlite3"
    _v1_file(p)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", _KILL_MIGRATION, str(p)], env=env, capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    conn = sqlite3.connect(p)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(records)")]
    conn.close()
    assert "external_id" not in cols  # the DDL was rolled back with the rest of the migration
    with Database(p) as d:  # the next start migrates cleanly
        assert d.schema_version == SCHEMA_VERSION and d.check() == []
        assert d.load_record("visit1").text == "头痛"


# -- damaged and locked files ---------------------------------------------------------------------
def _damage(path: Path, how: str) -> None:
    if how == "random":
        path.write_bytes(os.urandom(8192))
    elif how == "truncated":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 3])
    else:  # one corrupted page: overwrite the b-tree header of the last page
        data = bytearray(path.read_bytes())
        page = int.from_bytes(data[16:18], "big") or 65536
        last = len(data) // page - 1
        data[last * page : last * page + 64] = os.urandom(64)
        path.write_bytes(bytes(data))


def _filled(path: Path) -> None:
    with Database(path) as d:
        for i in range(40):
            d.save_record(sample_record(f"r{i}", "主诉：胃脘胀痛3年。" * 20))
        d.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


@pytest.mark.parametrize("how", ["random", "truncated", "page"])
def test_damaged_file_is_refused_with_one_sentence(tmp_path, how):
    p = tmp_path / "d.sqlite3"
    _filled(p)
    _damage(p, how)
    with pytest.raises(DatabaseDamaged, match="damaged"):
        Database(p)
    assert bk.check_file(p)  # and the check names a problem


def test_locked_database_raises_busy_quickly(tmp_path):
    p = tmp_path / "l.sqlite3"
    Database(p).close()
    holder = sqlite3.connect(p, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        d = Database(p, busy_timeout_s=0.2)
        t0 = time.monotonic()
        with pytest.raises(DatabaseBusy, match="busy"):
            d.save_record(sample_record("r1"))
        assert time.monotonic() - t0 < 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    d.save_record(sample_record("r1"))  # once the lock is gone the save goes through
    d.close()


# -- full deletion ---------------------------------------------------------------------------------
def test_delete_removes_everything_of_the_record_only(db):
    shared, own = _png(), _png()[:-1] + b"\x00"
    secret = "主诉：独一无二的症状描述甲乙丙。"
    rid, _ = db.save_record(sample_record("", secret), photos=[PhotoInput(shared, {"a": 1}), PhotoInput(own, {"b": 2})],
                            actions=[{"action": "relabel", "before": {"text": "独一无二"}, "after": {"label": "SIGN"}}])
    keep, _ = db.save_record(sample_record("", "主诉：头痛。"), photos=[PhotoInput(shared)])
    db.save_draft(rid, secret + "草稿")
    db.delete_record(rid)
    assert not db.record_exists(rid) and db.load_draft(rid) is None
    assert db.history("独一无二") == [] and db.entity_rows(rid) == []
    import hashlib

    assert db.photo_bytes(hashlib.sha256(own).hexdigest()) is None  # used by nobody else: gone
    assert db.photo_bytes(hashlib.sha256(shared).hexdigest()) == shared  # still used by the other record
    assert all(a.before is None and a.after is None for a in db.actions(rid))
    assert db.check() == []
    raw = db.path.read_bytes() + (db.path.with_name(db.path.name + "-wal").read_bytes()
                                  if db.path.with_name(db.path.name + "-wal").exists() else b"")
    assert "甲乙丙".encode() not in raw  # secure_delete + checkpoint: the text is not left in the file


# -- backups --------------------------------------------------------------------------------------------
def test_rotating_backups_keep_n_and_at_most_daily(tmp_path):
    p = tmp_path / "b.sqlite3"
    _filled(p)
    assert bk.rotate_backups(p) is not None
    assert bk.rotate_backups(p) is None  # less than a day later: nothing new
    for _ in range(4):
        bk.rotate_backups(p, keep=3, min_interval_s=0)
    assert len(bk.auto_backups(p)) == 3


def test_restore_checks_the_source_and_keeps_the_replaced_file(tmp_path):
    p = tmp_path / "r.sqlite3"
    _filled(p)
    good = bk.backup_to(p, tmp_path / "copy.sqlite3")
    with Database(p) as d:
        d.save_record(sample_record("late"))
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(os.urandom(4096))
    with pytest.raises(bk.BackupError, match="not restored"):
        bk.restore(p, bad)
    kept = bk.restore(p, good)
    assert kept is not None and kept.exists()
    with Database(p) as d:
        assert not d.record_exists("late") and d.record_exists("r0")
    with Database(kept) as d:
        assert d.record_exists("late")


def test_restore_over_a_damaged_file_sets_it_aside(tmp_path):
    p = tmp_path / "x.sqlite3"
    _filled(p)
    good = bk.backup_to(p, tmp_path / "good.sqlite3")
    _damage(p, "random")
    kept = bk.restore(p, good)
    assert kept is not None and ".damaged-" in kept.name and kept.exists()
    with Database(p) as d:
        assert d.record_exists("r1")


def test_record_length_cap_names_the_record_and_keeps_the_rest(tmp_path):
    import json

    from tcm_desktop.records.inputs import MAX_RECORD_CHARS

    f = tmp_path / "big.jsonl"
    f.write_text(json.dumps({"id": "huge", "text": "痛" * (MAX_RECORD_CHARS + 1)}) + "\n"
                 + json.dumps({"id": "ok", "text": "头痛"}) + "\n", encoding="utf-8")
    (tmp_path / "big.txt").write_text("咳" * (MAX_RECORD_CHARS + 5), encoding="utf-8")
    problems: list[str] = []
    got = list(read_inputs([str(f), str(tmp_path / "big.txt")], None, problems))
    assert [r.external_id for r in got] == ["ok"]
    assert problems[0].startswith(f"{f}:1: record has 200,001 characters") and "big.txt: record has" in problems[1]


def test_reanalyse_hook_returns_a_fresh_unsaved_result(db):
    from desktop_samples import FakeEngine

    svc = RecordService(db)
    rec = sample_record("", "主诉：头痛2天。")
    rec.tongue = {"ok": True}
    res = svc.save(rec)
    fresh = svc.reanalyse(res.record_id, FakeEngine())
    assert fresh.id == res.record_id and fresh.text == rec.text and fresh.tongue == {"ok": True}
    assert [v["version"] for v in db.versions(res.record_id)] == [1]  # nothing saved until the doctor saves


def test_backup_and_check_work_with_uri_characters_in_the_path(tmp_path):
    folder = tmp_path / "诊所 #1 ?100%"
    folder.mkdir()
    p = folder / "c.sqlite3"
    _filled(p)
    assert bk.check_file(p) == []
    out = bk.backup_to(p, folder / "copy.sqlite3")
    with Database(out) as d:
        assert d.record_exists("r3")


def test_check_names_broken_app_invariants(tmp_path):
    p = tmp_path / "i.sqlite3"
    _filled(p)
    conn = sqlite3.connect(p)
    conn.execute("DELETE FROM records_fts WHERE record_id = 'r1'")
    conn.execute("UPDATE records SET current_version = 9 WHERE id = 'r2'")
    conn.commit()
    conn.close()
    problems = bk.check_file(p)
    assert "1 records without their current version" in problems
    assert "1 records without exactly one search row" in problems


def test_saving_an_unchanged_record_makes_no_version(db):
    svc = RecordService(db)
    rec = sample_record("")
    first = svc.save(rec, patient_name="王小明")
    again = svc.save(rec)
    assert again.unchanged and again.version == 1 and [v["version"] for v in db.versions(first.record_id)] == [1]
    rec.entities[0].status = "accepted"  # a review step is an edit
    assert svc.save(rec, actions=[{"action": "accept"}]).version == 2
