"""Pages of paper records stored with the record: schema v4, kinds, reopening, exports, deletion, backups,
encryption and drafts (Qt-free; the GUI path is in tests/test_ui_paper.py)."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from desktop_samples import run_cli, sample_record

from tcm_desktop.ocr.reader import OcrChar, OcrDocument, OcrLine, OcrPage
from tcm_desktop.ocr.storage import MAX_PNG_BYTES, document_from_pages, encode_image, encode_pages
from tcm_desktop.records import backup as bk
from tcm_desktop.records import encryption
from tcm_desktop.records.database import MIGRATIONS, SCHEMA_VERSION, Database, PhotoInput
from tcm_desktop.records.service import RecordService

LINES = ("主诉：王秀英，头痛三天。", "舌淡苔白，脉弦。")


def _png(color: tuple[int, int, int] = (200, 90, 90)) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 40), color).save(buf, "PNG")
    return buf.getvalue()


def _doc(n_pages: int = 1, blank_twins: bool = False) -> OcrDocument:
    """A read document built by hand: distinct page images, one unsure character (痛) per page."""
    pages = []
    for p in range(n_pages):
        img = np.full((160, 320, 3), 255, np.uint8)
        if not (blank_twins and p > 0):  # with blank_twins, pages 2.. are identical blank images
            img[5:15, 5 + 10 * p : 15 + 10 * p] = (30, 60, 90)
        lines = []
        for li, s in enumerate(LINES):
            y = 20 + 40 * li
            chars = [OcrChar(ch, (10 + 20 * i, y, 28 + 20 * i, y + 24), 0.5 if ch == "痛" else 0.98)
                     for i, ch in enumerate(s)]
            lines.append(OcrLine(chars, (10, y, 28 + 20 * (len(s) - 1), y + 24)))
        pages.append(OcrPage(p, img, lines, angle=1.2))
    return OcrDocument.from_pages("scan.pdf", pages)


@pytest.fixture
def db(tmp_path):
    d = Database(tmp_path / "p.sqlite3")
    yield d
    d.close()


def _save_paper(db: Database, doc: OcrDocument, tongue: bytes | None = None) -> str:
    svc = RecordService(db)
    rec = sample_record("", doc.text)
    photo = PhotoInput(tongue, {"ok": True}, "t-1") if tongue else None
    return svc.save(rec, patient_name="王秀英", photo=photo, pages=encode_pages(doc)).record_id


def _page_shas(db: Database, rid: str) -> list[str]:
    return [r[0] for r in db.conn.execute(
        "SELECT sha256 FROM record_photos WHERE record_id = ? AND kind = 'page' ORDER BY page", (rid,))]


# -- schema v3 -> v4 ----------------------------------------------------------------------------------------
def _v3_file(path: Path) -> dict[str, list[tuple]]:
    """A database as the v3 app wrote it (migrations 1-3 and v3-era rows), and its rows per table."""
    conn = sqlite3.connect(path, isolation_level=None)
    for m in MIGRATIONS[:3]:
        m(conn)
    conn.execute("PRAGMA user_version = 3")
    rec = sample_record("rec1")
    photo = _png()
    sha = hashlib.sha256(photo).hexdigest()
    rows = [
        "INSERT INTO patients VALUES (1, '王秀英', '女', 1962, '')",
        ("INSERT INTO records (id, patient_id, title, created, updated, current_version, external_id, source, "
         "import_sha) VALUES ('rec1', 1, '胃脘胀痛', '2025-01-02', '2025-01-03', 1, 'v1', '/a.jsonl', 'abc')"),
        ("INSERT INTO record_versions VALUES ('rec1', 1, ?, ?, 'fake-1', '2025-01-03', '李医生')",
         (rec.text, json.dumps(rec.to_dict(), ensure_ascii=False))),
        ("INSERT INTO entities VALUES ('rec1', 1, 0, 2, 'SYMPTOM', '主诉', 'present', 0.9, 'accepted', '{}', 'fake-1')"),
        "INSERT INTO review_actions (record_id, version, action, before, after, at, user) "
        "VALUES ('rec1', 1, 'accept', NULL, '{\"i\": 0}', '2025-01-03', '李医生')",
        ("INSERT INTO photos VALUES (?, ?, NULL, 40, 40, '2025-01-03')", (sha, photo)),
        ("INSERT INTO photo_analyses (sha256, analysis, model_version, at) VALUES (?, '{\"ok\": true}', 't-1', "
         "'2025-01-03')", (sha,)),
        ("INSERT INTO record_photos VALUES ('rec1', ?, '2025-01-03')", (sha,)),
        "INSERT INTO drafts VALUES ('rec1', '主诉：头痛', '2025-01-04', '{\"patient\": \"王秀英\"}')",
        ("INSERT INTO records_fts VALUES ('rec1', ?)", (rec.text,)),
    ]
    for r in rows:
        conn.execute(*(r if isinstance(r, tuple) else (r,)))
    tables = ("patients", "records", "record_versions", "entities", "review_actions", "photos", "photo_analyses",
              "record_photos", "drafts", "records_fts")
    before = {t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall()) for t in tables}
    conn.close()
    return before


def test_v3_file_migrates_to_v4_keeping_every_row(tmp_path):
    p = tmp_path / "clinic.sqlite3"
    before = _v3_file(p)
    with Database(p) as d:
        assert d.schema_version == SCHEMA_VERSION == 4 and d.check() == []
        for table, rows in before.items():
            if table == "record_photos":
                after = sorted(d.conn.execute("SELECT record_id, sha256, added FROM record_photos").fetchall())
                kinds = d.conn.execute("SELECT kind, page, layout FROM record_photos").fetchall()
                assert after == rows and kinds == [("tongue", 0, None)]  # existing photos are tongue photos
            else:
                assert sorted(d.conn.execute(f"SELECT * FROM {table}").fetchall()) == rows, table
        opened = RecordService(d).open("rec1")
        assert opened.photo == before["photos"][0][1] and opened.photo_analysis == {"ok": True}
        assert opened.pages == [] and opened.patient_name == "王秀英"
        assert d.record_photos("rec1") == [before["photos"][0][0]]
    (pre,) = (tmp_path / "backups").glob("clinic-pre-v3-*.sqlite3")  # the copy made before migrating
    assert bk.check_file(pre) == []
    conn = sqlite3.connect(pre)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    conn.close()


# -- saving, kinds, reopening ---------------------------------------------------------------------------------
def test_pages_are_stored_as_pages_and_never_as_the_tongue_photo(db):
    doc = _doc(3, blank_twins=True)  # pages 2 and 3 are the same image: both are kept
    tongue = _png()
    rid = _save_paper(db, doc, tongue)
    rows = db.conn.execute("SELECT kind, page FROM record_photos WHERE record_id = ? ORDER BY kind, page",
                           (rid,)).fetchall()
    assert rows == [("page", 1), ("page", 2), ("page", 3), ("tongue", 0)]
    assert db.record_photos(rid) == [hashlib.sha256(tongue).hexdigest()]  # what the tongue panel and report use
    opened = RecordService(db).open(rid)
    assert opened.photo == tongue and opened.photo_analysis == {"ok": True}
    assert [p.page for p in opened.pages] == [1, 2, 3]
    assert db.photo_analysis(opened.pages[0].sha256) is None  # a page has no tongue analysis

    only_paper = _save_paper(db, _doc(1))
    opened = RecordService(db).open(only_paper)
    assert opened.photo is None and opened.photo_analysis is None and len(opened.pages) == 1


def test_reopened_pages_rebuild_the_document_with_its_boxes(db):
    doc = _doc(2)
    rid = _save_paper(db, doc)
    back = document_from_pages(RecordService(db).open(rid).pages)
    assert back is not None and back.text == doc.text
    assert back.confidences() == doc.confidences()
    start = doc.text.index("头痛")
    assert back.boxes(start, start + 2) == doc.boxes(start, start + 2)
    assert back.low_confidence_offsets() == doc.low_confidence_offsets()
    assert [p.angle for p in back.pages] == [1.2, 1.2]
    assert np.array_equal(back.pages[1].image, doc.pages[1].image)  # PNG: lossless
    assert document_from_pages([]) is None


def test_saving_the_same_pages_again_adds_nothing(db):
    doc = _doc(1)
    svc = RecordService(db)
    rec = sample_record("", doc.text)
    first = svc.save(rec, pages=encode_pages(doc))
    svc.save(rec, pages=encode_pages(doc))  # the same record saved again with the same pages
    assert db.conn.execute("SELECT COUNT(*) FROM record_photos WHERE record_id = ?",
                           (first.record_id,)).fetchone()[0] == 1


def test_a_noisy_photo_page_is_stored_as_jpeg():
    rng = np.random.default_rng(0)
    noisy = rng.integers(0, 256, (900, 900, 3), dtype=np.uint8)
    data = encode_image(noisy)
    assert data[:3] == b"\xff\xd8\xff" and len(data) < MAX_PNG_BYTES
    assert encode_image(np.full((100, 100, 3), 255, np.uint8))[:4] == b"\x89PNG"


# -- exports, deletion, backups, encryption ---------------------------------------------------------------------
def test_deidentified_export_has_no_page_images(db, tmp_path):
    doc = _doc(1)
    rid = _save_paper(db, doc)
    pages = RecordService(db).open(rid).pages
    rc, out, err = run_cli(["db", "export", "--db", str(db.path), "--deidentify"])
    assert rc == 0, err
    (row,) = [json.loads(line) for line in out.splitlines()]
    assert set(row) == {"id", "entities", "sections", "prescription", "model_version", "text", "external_id",
                        "source", "patient", "version"}
    assert "王秀英" not in out and pages[0].sha256 not in out
    assert "iVBOR" not in out and "/9j/" not in out  # no base64 PNG or JPEG anywhere


def test_deleting_a_record_removes_its_pages(db):
    shared = _doc(1)
    rid = _save_paper(db, _doc(2))
    keep = _save_paper(db, shared)
    own = _page_shas(db, rid)
    db.delete_record(rid)
    assert _page_shas(db, rid) == [] and RecordService(db).open(keep).pages
    assert db.photo_bytes(own[1]) is None  # page 2 only the deleted record used: gone
    assert db.photo_bytes(own[0]) is not None  # page 1 is also the other record's page: kept
    assert db.check() == []


def test_backup_and_restore_keep_the_pages(db, tmp_path):
    rid = _save_paper(db, _doc(2))
    pages = RecordService(db).open(rid).pages
    copy = bk.backup_to(db.path, tmp_path / "copy.sqlite3")
    db.delete_record(rid)
    db.close()
    bk.restore(db.path, copy)
    with Database(db.path) as d:
        back = RecordService(d).open(rid).pages
    assert [(p.page, p.data, p.layout) for p in back] == [(p.page, p.data, p.layout) for p in pages]


@pytest.mark.usefixtures("fresh_passphrases")
def test_pages_of_an_encrypted_database_are_encrypted(tmp_path):
    path = tmp_path / "plain.sqlite3"
    doc = _doc(1)
    with Database(path) as d:
        rid = _save_paper(d, doc)
    passphrase = "correct horse 电池 staple"
    encryption.encrypt_database(path, passphrase)
    data = encode_pages(doc)[0].data
    disk = b"".join(p.read_bytes() for p in tmp_path.glob("plain.sqlite3*"))
    assert data[40:120] not in disk and "王秀英".encode() not in disk
    with Database(path, passphrase=passphrase) as d:
        (page,) = RecordService(d).open(rid).pages
    assert page.data == data and page.layout["lines"][0]["chars"][0][0] == "主"


# -- drafts -----------------------------------------------------------------------------------------------------
def test_a_draft_keeps_pages_until_saved_or_discarded(db):
    svc = RecordService(db)
    doc = _doc(2)
    refs = svc.stash_pages(encode_pages(doc))
    db.save_draft("unsaved", doc.text, {"paper_pages": refs})
    db.clear_draft("other")  # clearing another draft never drops images a draft still holds
    db.close()
    with Database(db.path) as d:  # after a crash: the draft brings the pages back
        svc = RecordService(d)
        pages = svc.stashed_pages(d.load_draft_state("unsaved")["paper_pages"])
        back = document_from_pages(pages)
        assert back is not None and back.text == doc.text and [p.page for p in pages] == [1, 2]
        rid = svc.save(sample_record("", doc.text), pages=pages, clear_drafts=["unsaved"]).record_id
        assert len(svc.open(rid).pages) == 2
        discarded = svc.stash_pages(encode_pages(_doc(3))[2:])  # a page read, then the draft discarded
        d.save_draft("unsaved", "x", {"paper_pages": discarded})
        d.clear_draft("unsaved")
        assert d.photo_bytes(discarded[0]["sha256"]) is None  # no page image left behind in the file
        assert len(svc.open(rid).pages) == 2  # saved pages stay
