"""The clinic's local database: records with every saved version, review audit, photos, drafts.

One real SQLite file (default ``user_dir()/tcm.sqlite3``) in WAL mode so the
GUI thread can read while a batch import writes from a worker thread (each
thread opens its own :class:`Database` on the same path). Nothing here imports
Qt: the CLI, tests and the GUI share it.

Why versions: a doctor's corrections are clinical documentation; a save never
overwrites, it appends ``record_versions`` row N+1 and the ``entities`` of that
version, and ``review_actions`` keeps who changed what. ``load_record`` returns
the :class:`StructuredRecord` exactly as it was saved (its JSON is stored
verbatim); the ``entities`` table is a queryable copy of it.

Search uses an FTS5 table with the ``trigram`` tokenizer so any Chinese
substring of three or more characters matches; shorter queries (``头痛`` is two
characters) fall back to ``LIKE`` over the same text.
"""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from tcm_desktop.config import user_dir
from tcm_desktop.structured import StructuredRecord

SCHEMA_VERSION = 2
DEFAULT_DB_NAME = "tcm.sqlite3"


class StorageError(RuntimeError):
    """A database problem worth showing the user (missing record, newer schema…)."""


def now_iso() -> str:
    """UTC timestamp with seconds, the one format stored everywhere."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def default_db_path() -> Path:
    return user_dir() / DEFAULT_DB_NAME


@dataclass(frozen=True)
class HistoryEntry:
    """One row of the history list: enough to show and reopen a record."""

    record_id: str
    title: str
    patient_id: int | None
    patient_name: str
    created: str
    updated: str
    version: int
    entity_count: int
    snippet: str


@dataclass(frozen=True)
class ReviewAction:
    """One audited review step (relabel, accept, delete…), as stored."""

    record_id: str
    version: int | None
    action: str
    before: Any
    after: Any
    at: str
    user: str


def _migration_1(db: sqlite_utils.Database) -> None:
    """The initial schema."""
    db.execute(
        """CREATE TABLE patients (
            id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '', sex TEXT NOT NULL DEFAULT '',
            birth_year INTEGER, notes TEXT NOT NULL DEFAULT '')"""
    )
    db.execute(
        """CREATE TABLE records (
            id TEXT PRIMARY KEY, patient_id INTEGER REFERENCES patients(id), title TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL, updated TEXT NOT NULL, current_version INTEGER NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE record_versions (
            record_id TEXT NOT NULL REFERENCES records(id), version INTEGER NOT NULL, text TEXT NOT NULL,
            structured TEXT NOT NULL, model_version TEXT NOT NULL DEFAULT '', saved_at TEXT NOT NULL,
            user TEXT NOT NULL DEFAULT '', PRIMARY KEY (record_id, version))"""
    )
    db.execute(
        """CREATE TABLE entities (
            record_id TEXT NOT NULL, version INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
            label TEXT NOT NULL, text TEXT NOT NULL, assertion TEXT NOT NULL, score REAL, status TEXT NOT NULL,
            normalized TEXT NOT NULL DEFAULT '{}', model_version TEXT NOT NULL DEFAULT '',
            FOREIGN KEY (record_id, version) REFERENCES record_versions(record_id, version))"""
    )
    db.execute("CREATE INDEX entities_record ON entities(record_id, version)")
    db.execute("CREATE INDEX entities_label ON entities(label, text)")
    db.execute(
        """CREATE TABLE review_actions (
            id INTEGER PRIMARY KEY AUTOINCREMENT, record_id TEXT NOT NULL, version INTEGER, action TEXT NOT NULL,
            before TEXT, after TEXT, at TEXT NOT NULL, user TEXT NOT NULL DEFAULT '')"""
    )
    db.execute("CREATE INDEX review_actions_record ON review_actions(record_id)")
    db.execute(
        """CREATE TABLE photos (
            sha256 TEXT PRIMARY KEY, data BLOB, path TEXT, width INTEGER, height INTEGER, added TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE photo_analyses (
            id INTEGER PRIMARY KEY AUTOINCREMENT, sha256 TEXT NOT NULL REFERENCES photos(sha256),
            analysis TEXT NOT NULL, model_version TEXT NOT NULL DEFAULT '', at TEXT NOT NULL)"""
    )
    db.execute(
        """CREATE TABLE record_photos (
            record_id TEXT NOT NULL REFERENCES records(id), sha256 TEXT NOT NULL REFERENCES photos(sha256),
            added TEXT NOT NULL, PRIMARY KEY (record_id, sha256))"""
    )
    db.execute("CREATE TABLE drafts (key TEXT PRIMARY KEY, text TEXT NOT NULL, saved_at TEXT NOT NULL)")
    # Contentless-style separate FTS table, kept in step by save_record (one row per record,
    # the current version's text). trigram => substring search works for Chinese.
    db.execute("CREATE VIRTUAL TABLE records_fts USING fts5(record_id UNINDEXED, text, tokenize='trigram')")


def _migration_2(db: sqlite_utils.Database) -> None:
    """Drafts hold the whole review state (entities, statuses, patient, photo), not only the text."""
    db.execute("ALTER TABLE drafts ADD COLUMN state TEXT")


#: Migrations in order; ``MIGRATIONS[i]`` brings the schema from version i to i+1.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_migration_1, _migration_2]
assert len(MIGRATIONS) == SCHEMA_VERSION


def _image_size(data: bytes) -> tuple[int | None, int | None]:
    """Width and height of an encoded image, or (None, None) when it cannot be read."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return int(im.width), int(im.height)
    except Exception:  # noqa: BLE001 - any undecodable photo is stored without a size
        return None, None


class Database:
    """The app's SQLite store. One instance per thread (sqlite connections are per-thread)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(self.path), timeout=30)
        self.db = sqlite_utils.Database(conn)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._migrate()

    # -- lifecycle ---------------------------------------------------------------
    def close(self) -> None:
        self.db.conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        row = self.db.execute("SELECT version FROM schema_version").fetchone()
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        """Bring an old file up to SCHEMA_VERSION; refuse a file written by a newer app."""
        conn = self.db.conn
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        current = self.schema_version
        if current > SCHEMA_VERSION:
            raise StorageError(
                f"database {self.path} has schema version {current}, newer than this app ({SCHEMA_VERSION}); "
                "update the application"
            )
        for target in range(current, SCHEMA_VERSION):
            with conn:
                MIGRATIONS[target](self.db)
                conn.execute("DELETE FROM schema_version")
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (target + 1,))

    # -- patients ----------------------------------------------------------------
    def add_patient(self, name: str, sex: str = "", birth_year: int | None = None, notes: str = "") -> int:
        with self.db.conn:
            cur = self.db.conn.execute(
                "INSERT INTO patients (name, sex, birth_year, notes) VALUES (?, ?, ?, ?)",
                (name, sex, birth_year, notes),
            )
        return int(cur.lastrowid)

    def get_patient(self, patient_id: int) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM patients WHERE id = ?", [patient_id]))
        return rows[0] if rows else None

    def patients(self) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM patients ORDER BY name"))

    # -- records -----------------------------------------------------------------
    def save_record(
        self,
        structured: StructuredRecord,
        patient_id: int | None = None,
        user: str = "",
        actions: Iterable[Mapping[str, Any]] = (),
        title: str | None = None,
    ) -> tuple[str, int]:
        """Append a new version of a record (creating the record) and return ``(record_id, version)``.

        ``structured.id`` names the record; an empty id gets a fresh UUID (and
        ``structured.id`` is set to it so the caller keeps saving the same record).
        ``actions`` are review steps (dicts with action/before/after, optional at)
        stored in the audit trail against the new version.
        """
        if not structured.id:
            structured.id = uuid.uuid4().hex
        rid = structured.id
        at = now_iso()
        payload = json.dumps(structured.to_dict(), ensure_ascii=False)
        conn = self.db.conn
        with conn:
            row = conn.execute("SELECT current_version, patient_id, title FROM records WHERE id = ?", (rid,)).fetchone()
            if row is None:
                version = 1
                conn.execute(
                    "INSERT INTO records (id, patient_id, title, created, updated, current_version) VALUES (?,?,?,?,?,?)",
                    (rid, patient_id, title if title is not None else _default_title(structured.text), at, at, version),
                )
            else:
                version = int(row[0]) + 1
                conn.execute(
                    "UPDATE records SET current_version = ?, updated = ?, patient_id = ?, title = ? WHERE id = ?",
                    (
                        version,
                        at,
                        patient_id if patient_id is not None else row[1],
                        title if title is not None else row[2],
                        rid,
                    ),
                )
            conn.execute(
                "INSERT INTO record_versions (record_id, version, text, structured, model_version, saved_at, user) "
                "VALUES (?,?,?,?,?,?,?)",
                (rid, version, structured.text, payload, structured.model_version, at, user),
            )
            conn.executemany(
                'INSERT INTO entities (record_id, version, start, "end", label, text, assertion, score, status, '
                "normalized, model_version) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        rid, version, e.start, e.end, e.label, e.text, e.assertion, e.score, e.status,
                        json.dumps(e.normalized, ensure_ascii=False), structured.model_version,
                    )
                    for e in structured.entities
                ],
            )
            conn.execute("DELETE FROM records_fts WHERE record_id = ?", (rid,))
            conn.execute("INSERT INTO records_fts (record_id, text) VALUES (?, ?)", (rid, structured.text))
            for a in actions:
                self._insert_action(rid, version, a.get("action", "?"), a.get("before"), a.get("after"),
                                    a.get("at") or at, a.get("user", user))
        return rid, version

    def record_exists(self, record_id: str) -> bool:
        return self.db.execute("SELECT 1 FROM records WHERE id = ?", [record_id]).fetchone() is not None

    def load_record(self, record_id: str, version: int | None = None) -> StructuredRecord:
        """The record exactly as saved (current version unless ``version`` is given)."""
        if version is None:
            row = self.db.execute("SELECT current_version FROM records WHERE id = ?", [record_id]).fetchone()
            if row is None:
                raise StorageError(f"no record {record_id!r}")
            version = int(row[0])
        row = self.db.execute(
            "SELECT structured FROM record_versions WHERE record_id = ? AND version = ?", [record_id, version]
        ).fetchone()
        if row is None:
            raise StorageError(f"no version {version} of record {record_id!r}")
        return StructuredRecord.from_dict(json.loads(row[0]))

    def record_info(self, record_id: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM records WHERE id = ?", [record_id]))
        return rows[0] if rows else None

    def versions(self, record_id: str) -> list[dict[str, Any]]:
        return list(
            self.db.query(
                "SELECT version, saved_at, user, model_version FROM record_versions WHERE record_id = ? ORDER BY version",
                [record_id],
            )
        )

    def entity_rows(self, record_id: str, version: int | None = None) -> list[dict[str, Any]]:
        if version is None:
            info = self.record_info(record_id)
            if info is None:
                return []
            version = info["current_version"]
        return list(
            self.db.query(
                'SELECT * FROM entities WHERE record_id = ? AND version = ? ORDER BY start, "end"', [record_id, version]
            )
        )

    def history(self, search: str = "", limit: int = 500) -> list[HistoryEntry]:
        """Records newest first; ``search`` matches any substring of the current text (Chinese included)."""
        q = search.strip()
        base = (
            "SELECT r.id, r.title, r.patient_id, COALESCE(p.name, '') AS pname, r.created, r.updated, "
            "r.current_version, v.text, "
            "(SELECT COUNT(*) FROM entities e WHERE e.record_id = r.id AND e.version = r.current_version) AS n "
            "FROM records r JOIN record_versions v ON v.record_id = r.id AND v.version = r.current_version "
            "LEFT JOIN patients p ON p.id = r.patient_id "
        )
        params: list[Any] = []
        if q:
            if len(q) >= 3:
                # trigram FTS: quote the whole query as one phrase so punctuation is literal.
                base += "WHERE r.id IN (SELECT record_id FROM records_fts WHERE records_fts MATCH ?) "
                params.append('"' + q.replace('"', '""') + '"')
            else:
                base += "WHERE (v.text LIKE ? ESCAPE '\\' OR r.title LIKE ? ESCAPE '\\' OR p.name LIKE ? ESCAPE '\\') "
                like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                params += [like, like, like]
        base += "ORDER BY r.updated DESC, r.rowid DESC LIMIT ?"
        params.append(limit)
        out = []
        for row in self.db.execute(base, params).fetchall():
            rid, title, pid, pname, created, updated, ver, text, n = row
            out.append(HistoryEntry(rid, title, pid, pname, created, updated, int(ver), int(n), _snippet(text, q)))
        return out

    def delete_record(self, record_id: str) -> None:
        """Remove a record with all its versions (the audit trail keeps a 'deleted' entry)."""
        conn = self.db.conn
        with conn:
            conn.execute("DELETE FROM entities WHERE record_id = ?", (record_id,))
            conn.execute("DELETE FROM record_versions WHERE record_id = ?", (record_id,))
            conn.execute("DELETE FROM record_photos WHERE record_id = ?", (record_id,))
            conn.execute("DELETE FROM records_fts WHERE record_id = ?", (record_id,))
            conn.execute("DELETE FROM records WHERE id = ?", (record_id,))
            self._insert_action(record_id, None, "delete_record", None, None, now_iso(), "")

    # -- audit -------------------------------------------------------------------
    def _insert_action(self, record_id: str, version: int | None, action: str, before: Any, after: Any,
                       at: str, user: str) -> None:
        self.db.conn.execute(
            "INSERT INTO review_actions (record_id, version, action, before, after, at, user) VALUES (?,?,?,?,?,?,?)",
            (
                record_id, version, action,
                None if before is None else json.dumps(before, ensure_ascii=False),
                None if after is None else json.dumps(after, ensure_ascii=False),
                at, user,
            ),
        )

    def log_action(self, record_id: str, action: str, before: Any = None, after: Any = None, user: str = "",
                   version: int | None = None) -> None:
        """Append one review step to the audit trail (JSON-serialisable before/after)."""
        with self.db.conn:
            self._insert_action(record_id, version, action, before, after, now_iso(), user)

    def actions(self, record_id: str) -> list[ReviewAction]:
        rows = self.db.execute(
            "SELECT record_id, version, action, before, after, at, user FROM review_actions WHERE record_id = ? "
            "ORDER BY id",
            [record_id],
        ).fetchall()
        return [
            ReviewAction(r[0], r[1], r[2], None if r[3] is None else json.loads(r[3]),
                         None if r[4] is None else json.loads(r[4]), r[5], r[6])
            for r in rows
        ]

    # -- photos ------------------------------------------------------------------
    def add_photo(self, data: bytes, path: str | None = None) -> str:
        """Store an image once (content-addressed) and return its sha256."""
        sha = hashlib.sha256(data).hexdigest()
        width, height = _image_size(data)
        with self.db.conn:
            self.db.conn.execute(
                "INSERT OR IGNORE INTO photos (sha256, data, path, width, height, added) VALUES (?,?,?,?,?,?)",
                (sha, data, path, width, height, now_iso()),
            )
        return sha

    def photo_bytes(self, sha256: str) -> bytes | None:
        row = self.db.execute("SELECT data, path FROM photos WHERE sha256 = ?", [sha256]).fetchone()
        if row is None:
            return None
        if row[0] is not None:
            return bytes(row[0])
        return Path(row[1]).read_bytes() if row[1] else None

    def photo_info(self, sha256: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT sha256, path, width, height, added FROM photos WHERE sha256 = ?", [sha256]))
        return rows[0] if rows else None

    def link_photo(self, record_id: str, sha256: str) -> None:
        with self.db.conn:
            self.db.conn.execute(
                "INSERT OR IGNORE INTO record_photos (record_id, sha256, added) VALUES (?,?,?)",
                (record_id, sha256, now_iso()),
            )

    def record_photos(self, record_id: str) -> list[str]:
        rows = self.db.execute(
            "SELECT sha256 FROM record_photos WHERE record_id = ? ORDER BY added, sha256", [record_id]
        ).fetchall()
        return [r[0] for r in rows]

    def save_photo_analysis(self, sha256: str, analysis: Mapping[str, Any], model_version: str = "") -> None:
        with self.db.conn:
            self.db.conn.execute(
                "INSERT INTO photo_analyses (sha256, analysis, model_version, at) VALUES (?,?,?,?)",
                (sha256, json.dumps(dict(analysis), ensure_ascii=False), model_version, now_iso()),
            )

    def photo_analysis(self, sha256: str) -> dict[str, Any] | None:
        """The latest analysis of a photo, or None when it was never analysed."""
        row = self.db.execute(
            "SELECT analysis FROM photo_analyses WHERE sha256 = ? ORDER BY id DESC LIMIT 1", [sha256]
        ).fetchone()
        return json.loads(row[0]) if row else None

    # -- drafts ------------------------------------------------------------------
    def save_draft(self, key: str, text: str, state: Mapping[str, Any] | None = None) -> None:
        """Autosave: one draft per record key (``"unsaved"`` for a new record), overwritten each time.

        ``state`` is the whole review state as JSON-able data (the app's draft: record with entities
        and statuses, patient, photo), so a crash loses nothing the doctor did.
        """
        payload = None if state is None else json.dumps(dict(state), ensure_ascii=False)
        with self.db.conn:
            self.db.conn.execute(
                "INSERT INTO drafts (key, text, saved_at, state) VALUES (?,?,?,?) "
                "ON CONFLICT(key) DO UPDATE SET text = excluded.text, saved_at = excluded.saved_at, "
                "state = excluded.state",
                (key, text, now_iso(), payload),
            )

    def load_draft_state(self, key: str) -> dict[str, Any] | None:
        """The whole review state saved with a draft (None when there is no draft or it holds text only)."""
        row = self.db.execute("SELECT state FROM drafts WHERE key = ?", [key]).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def drafts(self) -> list[dict[str, Any]]:
        """Every autosaved draft, newest first: ``key``, ``saved_at``."""
        return list(self.db.query("SELECT key, saved_at FROM drafts ORDER BY saved_at DESC, rowid DESC"))

    def load_draft(self, key: str) -> tuple[str, str] | None:
        """``(text, saved_at)`` of the draft, or None."""
        row = self.db.execute("SELECT text, saved_at FROM drafts WHERE key = ?", [key]).fetchone()
        return (row[0], row[1]) if row else None

    def clear_draft(self, key: str) -> None:
        with self.db.conn:
            self.db.conn.execute("DELETE FROM drafts WHERE key = ?", (key,))


def _default_title(text: str) -> str:
    """First non-empty line, shortened: what a doctor recognises in a list."""
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line[:40]
    return ""


def _snippet(text: str, query: str, width: int = 40) -> str:
    """A one-line excerpt around the first match (or the start)."""
    flat = " ".join(text.split())
    i = flat.find(query) if query else -1
    if i < 0:
        return flat[:width]
    start = max(0, i - width // 3)
    return ("…" if start else "") + flat[start : start + width] + ("…" if start + width < len(flat) else "")
