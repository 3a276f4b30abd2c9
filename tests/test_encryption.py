"""Encryption at rest: SQLCipher files hold no record text, reopen with the passphrase (Database and CLI),
a wrong or missing passphrase is one line with exit 3 and leaves the file intact, decrypt round-trips."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3

import pytest
from desktop_samples import sample_record

from tcm_desktop import cli
from tcm_desktop.records import encryption
from tcm_desktop.records.database import Database

PASS = "correct horse 电池 staple"
# Record text that must never be on disk in clear: a name, a phone number and clinical words.
SECRET_BITS = ["柴胡疏肝散", "胃脘胀痛", "王秀英", "13912345678", "慢性浅表性胃炎"]


pytestmark = pytest.mark.usefixtures("fresh_passphrases")


def _fill(db: Database) -> str:
    pid = db.add_patient("王秀英", "女", 1962, notes="电话13912345678")
    rec = sample_record("r1")
    rid, _ = db.save_record(rec, patient_id=pid, user="李医生")
    db.save_draft("unsaved", "患者王秀英复诊，胃脘胀痛减轻")
    db.add_photo(b"\x89PNG fake photo bytes of the tongue")
    return rid


def _disk_bytes(path) -> bytes:
    """The main file and its -wal/-shm side files, as they are on disk now."""
    out = b""
    for suffix in ("", "-wal", "-shm"):
        p = path.with_name(path.name + suffix)
        if p.exists():
            out += p.read_bytes()
    return out


def _assert_no_clear_text(path) -> None:
    blob = _disk_bytes(path)
    for bit in SECRET_BITS:
        assert bit.encode("utf-8") not in blob, bit
    assert b"SQLite format 3" not in blob[:16]


def test_new_database_with_passphrase_is_encrypted_and_has_no_clear_text(tmp_path):
    path = tmp_path / "enc.sqlite3"
    db = Database(path, passphrase=PASS)
    rid = _fill(db)
    # Files checked while the database is open (WAL not yet checkpointed) and after closing.
    assert (path.with_name(path.name + "-wal")).exists()
    _assert_no_clear_text(path)
    assert [h.record_id for h in db.history("柴胡疏肝")] == [rid]  # FTS5 trigram works under SQLCipher
    assert db.db.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
    db.close()
    _assert_no_clear_text(path)
    assert encryption.is_encrypted(path)
    encryption.forget_passphrases()
    with Database(path, passphrase=PASS) as again:
        assert again.load_record(rid) == sample_record("r1")
        assert again.get_patient(1)["name"] == "王秀英"


def test_plain_database_still_opens_without_passphrase(tmp_path):
    path = tmp_path / "plain.sqlite3"
    with Database(path) as db:
        _fill(db)
    assert not encryption.is_encrypted(path)
    assert b"SQLite format 3" == path.read_bytes()[:15]
    with Database(path) as db:
        assert db.record_exists("r1")


def test_missing_and_wrong_passphrase_raise_clear_errors_and_leave_file_intact(tmp_path):
    path = tmp_path / "enc.sqlite3"
    with Database(path, passphrase=PASS) as db:
        _fill(db)
    encryption.forget_passphrases()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(encryption.PassphraseMissing, match="encrypted"):
        Database(path)
    with pytest.raises(encryption.WrongPassphrase, match="wrong passphrase"):
        Database(path, passphrase="not it")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert encryption.check_passphrase(path, PASS) and not encryption.check_passphrase(path, "nope")


def test_encrypt_then_decrypt_round_trip_keeps_every_row(tmp_path):
    path = tmp_path / "clinic.sqlite3"
    with Database(path) as db:
        rid = _fill(db)
        plain_rows = {t: db.db[t].count for t in db.db.table_names()}
    assert b"\xe6\x9f\xb4\xe8\x83\xa1" in path.read_bytes()  # 柴胡 in clear before

    assert encryption.encrypt_database(path, PASS) is None  # the clear backup is removed after verification
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clinic.sqlite3"]
    _assert_no_clear_text(path)
    encryption.forget_passphrases()
    with Database(path, passphrase=PASS) as db:
        assert db.load_record(rid) == sample_record("r1")
        assert {t: db.db[t].count for t in db.db.table_names()} == plain_rows
        assert db.load_draft("unsaved")[0].startswith("患者王秀英")
    _assert_no_clear_text(path)

    backup = encryption.decrypt_database(path, PASS)
    assert backup is not None and encryption.is_encrypted(backup)  # the kept backup is still encrypted
    assert not encryption.is_encrypted(path)
    with Database(path) as db:
        assert db.load_record(rid) == sample_record("r1")
        assert {t: db.db[t].count for t in db.db.table_names()} == plain_rows


def test_conversion_refusals_change_nothing(tmp_path):
    path = tmp_path / "c.sqlite3"
    with Database(path) as db:
        _fill(db)
    before = path.read_bytes()
    with pytest.raises(encryption.ConversionError, match="not encrypted"):
        encryption.decrypt_database(path, PASS)
    encryption.encrypt_database(path, PASS)
    enc = path.read_bytes()
    with pytest.raises(encryption.ConversionError, match="already encrypted"):
        encryption.encrypt_database(path, PASS)
    with pytest.raises(encryption.WrongPassphrase):
        encryption.decrypt_database(path, "wrong")
    assert path.read_bytes() == enc and before != enc
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.sqlite3"]


def test_a_failed_verification_keeps_the_original(tmp_path, monkeypatch):
    path = tmp_path / "v.sqlite3"
    with Database(path) as db:
        _fill(db)
    before = path.read_bytes()

    def bad_verify(p, key, expected):
        raise encryption.ConversionError("simulated: rows differ")

    monkeypatch.setattr(encryption, "_verify", bad_verify)
    with pytest.raises(encryption.ConversionError, match="simulated"):
        encryption.encrypt_database(path, PASS)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.sqlite3"]


def test_backup_of_an_encrypted_database_stays_encrypted(tmp_path):
    path = tmp_path / "e.sqlite3"
    with Database(path, passphrase=PASS) as db:
        rid = _fill(db)
        copy = encryption.copy_database(db.db.conn, tmp_path / "backup.sqlite3", PASS)
    _assert_no_clear_text(copy)
    encryption.forget_passphrases()
    with Database(copy, passphrase=PASS) as db:
        assert db.record_exists(rid)


def _run(argv, monkeypatch, passphrase=None):
    if passphrase is None:
        monkeypatch.delenv(encryption.PASSPHRASE_ENV, raising=False)
    else:
        monkeypatch.setenv(encryption.PASSPHRASE_ENV, passphrase)
    encryption.forget_passphrases()
    out, err = io.StringIO(), io.StringIO()
    rc = cli.main(argv, stdout=out, stderr=err)
    return rc, out.getvalue(), err.getvalue()


def test_cli_encrypt_export_wrong_passphrase_and_decrypt(tmp_path, monkeypatch):
    path = tmp_path / "cli.sqlite3"
    with Database(path) as db:
        rid = _fill(db)

    rc, _, err = _run(["db", "encrypt", "--db", str(path)], monkeypatch)
    assert rc == cli.EXIT_DB_ERROR and err.count("\n") == 1 and "TCM_DB_PASSPHRASE" in err
    assert not encryption.is_encrypted(path)

    rc, out, err = _run(["db", "encrypt", "--db", str(path)], monkeypatch, PASS)
    assert rc == 0, err
    _assert_no_clear_text(path)

    rc, out, err = _run(["db", "export", "--db", str(path)], monkeypatch, PASS)
    assert rc == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == [rid] and rows[0]["patient"] == "王秀英"
    sealed = path.read_bytes()

    for bad in (None, "wrong passphrase"):
        rc, out, err = _run(["db", "export", "--db", str(path)], monkeypatch, bad)
        assert rc == cli.EXIT_DB_ERROR and out == ""
        assert err.count("\n") == 1 and err.startswith("error:") and "Traceback" not in err
        rc, _, err = _run(["db", "decrypt", "--db", str(path)], monkeypatch, bad)
        assert rc == cli.EXIT_DB_ERROR and err.count("\n") == 1
    assert path.read_bytes() == sealed  # never damaged by a wrong passphrase

    rc, out, err = _run(["db", "decrypt", "--db", str(path), "--no-backup"], monkeypatch, PASS)
    assert rc == 0, err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "backups") == ["cli.sqlite3"]
    # the automatic backup made while the database was encrypted stayed encrypted
    assert all(b.read_bytes()[:16] != b"SQLite format 3\x00" for b in (tmp_path / "backups").glob("*.sqlite3"))
    conn = sqlite3.connect(path)  # a plain SQLite file again, readable by any tool
    assert conn.execute("SELECT count(*) FROM records").fetchone()[0] == 1
    conn.close()


def test_cli_subprocess_wrong_passphrase_prints_one_line(tmp_path):
    """The real entry point in a fresh process: no traceback, no SQLCipher log lines on stderr."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    path = tmp_path / "p.sqlite3"
    with Database(path, passphrase=PASS) as db:
        _fill(db)
    env = {**os.environ, encryption.PASSPHRASE_ENV: "wrong", "PYTHONPATH": str(Path(cli.__file__).parents[1])}
    r = subprocess.run([sys.executable, "-m", "tcm_desktop", "db", "export", "--db", str(path)],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 3
    assert r.stderr.strip().count("\n") == 0 and "wrong passphrase" in r.stderr


def test_change_passphrase_and_export_of_a_missing_database(tmp_path, monkeypatch):
    path = tmp_path / "k.sqlite3"
    with Database(path, passphrase=PASS) as db:
        rid = _fill(db)
    encryption.change_passphrase(path, PASS, "new passphrase")
    encryption.forget_passphrases()
    assert not encryption.check_passphrase(path, PASS)
    with Database(path, passphrase="new passphrase") as db:
        assert db.record_exists(rid)
    rc, out, err = _run(["db", "export", "--db", str(tmp_path / "missing.sqlite3")], monkeypatch, PASS)
    assert rc == cli.EXIT_DB_ERROR and "no database" in err and not (tmp_path / "missing.sqlite3").exists()
