"""The clinic's local database: records with every saved version, review audit, photos, drafts.

One real SQLite file (default ``user_dir()/tcm.sqlite3``) in WAL mode so the
GUI can read while a batch import writes from a worker thread (each thread
opens its own :class:`Database` on the same path). Nothing here imports Qt:
the CLI, tests and the GUI share it through :mod:`tcm_desktop.records.service`.

Why versions: a doctor's corrections are clinical documentation; a save never
overwrites, it appends ``record_versions`` row N+1 and the ``entities`` of that
version, and ``review_actions`` keeps who changed what. ``load_record`` returns
the :class:`StructuredRecord` exactly as it was saved (its JSON is stored
verbatim); the ``entities`` table is a queryable copy of it.

Record identity: ``records.id`` is the internal id (a UUID for imports). An
imported record also keeps the id it had in its input (``external_id``), the
input it came from (``source``: a file path, ``stdin``, ``gui``…) and the
SHA-256 of its imported text. ``(source, external_id, import_sha)`` is unique:
re-importing the same line changes nothing, and the same external id from
another file or with other text becomes a *new* record, never a version of an
existing one. Only :meth:`Database.save_record` on an existing internal id (the
doctor editing the record) appends a version.

Transactions: the connection runs in autocommit mode and every write goes
through :meth:`Database.transaction` (``BEGIN IMMEDIATE`` … ``COMMIT``), so a
whole save — patient, record row, version, entities, FTS row, audit steps,
photos, analyses, draft clean-up — commits or rolls back as one. Migrations
run the same way, DDL included, with the schema version in ``PRAGMA
user_version`` written inside the migration's transaction.

Schema versions: 1 the initial tables; 2 record identity; 3 drafts hold the
whole review state; 4 images linked to a record have a kind:
``record_photos.kind`` is ``'tongue'`` (the tongue photo, and every row from
before v4) or ``'page'`` (a page of the paper record the text was read from,
with its 1-based ``page`` number and ``layout``: the recognised lines and
character boxes as JSON, :mod:`tcm_desktop.ocr.storage`). The key is
``(record_id, kind, page, sha256)`` so two identical pages of one PDF are both
kept. What shows or uses *the tongue photo* (tongue panel, report, history,
exports, insights) reads :meth:`Database.record_photos` (tongue only); the
paper tab reads :meth:`Database.record_pages`. Page images live in ``photos``
like any image: in backups, encrypted with the database, removed with their
last record, never in an export.

Durability: ``synchronous=FULL`` in WAL mode, so a save that returned has been
fsynced: it survives a killed process *and* a power cut. ``NORMAL`` would only
survive a killed process (the last commits may vanish on power loss); on a
clinic PC saving one record at a time the extra fsync costs milliseconds.

Locks: a 2 s busy timeout (not sqlite3's 30 s default) so the GUI is told
"database busy" quickly and can retry; the error is :class:`DatabaseBusy`.
A file that is not a sound SQLite database raises :class:`DatabaseDamaged`.

Search uses an FTS5 table with the ``trigram`` tokenizer so any Chinese
substring of three or more characters matches; shorter queries (``头痛`` is two
characters) fall back to ``LIKE``. Patient names and titles are matched with
``LIKE`` for every query length.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import sqlite3
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tcm_desktop.config import user_dir
from tcm_desktop.records import encryption
from tcm_desktop.structured import StructuredRecord


def _import_sqlite_utils():
    """sqlite-utils imports pandas whenever it is installed, only to map pandas
    column types the app never stores; that import alone costs ~0.8 s and tens of
    MB (pyarrow) before the window can show (issue 14). Hide pandas meanwhile."""
    hide = "pandas" not in sys.modules
    if hide:
        sys.modules["pandas"] = None  # type: ignore[assignment]  # makes ``import pandas`` fail
    try:
        import sqlite_utils
    finally:
        if hide:
            del sys.modules["pandas"]
    return sqlite_utils


SCHEMA_VERSION = 4
DEFAULT_DB_NAME = "tcm.sqlite3"
BUSY_TIMEOUT_S = 2.0


class StorageError(RuntimeError):
    """A database problem worth showing the user (missing record, newer schema…)."""


class DatabaseDamaged(StorageError):
    """The file is not a sound SQLite database of this app (random bytes, truncated, corrupt page)."""


class EncryptedOrDamaged(DatabaseDamaged, encryption.PassphraseMissing):
    """A file without the SQLite header and no passphrase: either SQLCipher-encrypted or damaged
    (the two cannot be told apart); handled as either by whoever catches it."""


class DatabaseBusy(StorageError):
    """Another program holds a write lock longer than the busy timeout; retrying later works."""


def now_iso() -> str:
    """UTC timestamp with seconds, the one format stored everywhere."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def default_db_path() -> Path:
    return user_dir() / DEFAULT_DB_NAME


def text_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    external_id: str = ""
    source: str = ""


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


#: what an image linked to a record shows: the tongue, or a page of the paper record it was read from
PHOTO_KINDS = ("tongue", "page")


@dataclass
class PhotoInput:
    """An image saved with a record: encoded bytes plus its analysis (if any).

    ``kind`` is ``"tongue"`` (the tongue photo) or ``"page"`` (a page of a paper record read by OCR,
    ``page`` its 1-based number, ``layout`` the recognised lines and character boxes as JSON-able data).
    """

    data: bytes
    analysis: Mapping[str, Any] | None = None
    model_version: str = ""
    path: str | None = None
    kind: str = "tongue"
    page: int = 0
    layout: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class StoredPage:
    """A page image of a paper record as stored: 1-based page number, bytes, layout (or None)."""

    page: int
    data: bytes
    layout: dict[str, Any] | None
    sha256: str = ""


@dataclass
class SaveResult:
    """What a save did: the internal id, the version now current, and whether anything was written."""

    record_id: str
    version: int
    created: bool = True
    unchanged: bool = False
    photos: list[str] = field(default_factory=list)


def _migration_1(conn: sqlite3.Connection) -> None:
    """The initial schema."""
    for sql in (
        """CREATE TABLE patients (
            id INTEGER PRIMARY KEY, name TEXT NOT NULL DEFAULT '', sex TEXT NOT NULL DEFAULT '',
            birth_year INTEGER, notes TEXT NOT NULL DEFAULT '')""",
        """CREATE TABLE records (
            id TEXT PRIMARY KEY, patient_id INTEGER REFERENCES patients(id), title TEXT NOT NULL DEFAULT '',
            created TEXT NOT NULL, updated TEXT NOT NULL, current_version INTEGER NOT NULL)""",
        """CREATE TABLE record_versions (
            record_id TEXT NOT NULL REFERENCES records(id), version INTEGER NOT NULL, text TEXT NOT NULL,
            structured TEXT NOT NULL, model_version TEXT NOT NULL DEFAULT '', saved_at TEXT NOT NULL,
            user TEXT NOT NULL DEFAULT '', PRIMARY KEY (record_id, version))""",
        """CREATE TABLE entities (
            record_id TEXT NOT NULL, version INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
            label TEXT NOT NULL, text TEXT NOT NULL, assertion TEXT NOT NULL, score REAL, status TEXT NOT NULL,
            normalized TEXT NOT NULL DEFAULT '{}', model_version TEXT NOT NULL DEFAULT '',
            FOREIGN KEY (record_id, version) REFERENCES record_versions(record_id, version))""",
        "CREATE INDEX entities_record ON entities(record_id, version)",
        "CREATE INDEX entities_label ON entities(label, text)",
        """CREATE TABLE review_actions (
            id INTEGER PRIMARY KEY AUTOINCREMENT, record_id TEXT NOT NULL, version INTEGER, action TEXT NOT NULL,
            before TEXT, after TEXT, at TEXT NOT NULL, user TEXT NOT NULL DEFAULT '')""",
        "CREATE INDEX review_actions_record ON review_actions(record_id)",
        """CREATE TABLE photos (
            sha256 TEXT PRIMARY KEY, data BLOB, path TEXT, width INTEGER, height INTEGER, added TEXT NOT NULL)""",
        """CREATE TABLE photo_analyses (
            id INTEGER PRIMARY KEY AUTOINCREMENT, sha256 TEXT NOT NULL REFERENCES photos(sha256),
            analysis TEXT NOT NULL, model_version TEXT NOT NULL DEFAULT '', at TEXT NOT NULL)""",
        """CREATE TABLE record_photos (
            record_id TEXT NOT NULL REFERENCES records(id), sha256 TEXT NOT NULL REFERENCES photos(sha256),
            added TEXT NOT NULL, PRIMARY KEY (record_id, sha256))""",
        "CREATE TABLE drafts (key TEXT PRIMARY KEY, text TEXT NOT NULL, saved_at TEXT NOT NULL)",
        # one row per record (the current version's text); trigram => substring search works for Chinese
        "CREATE VIRTUAL TABLE records_fts USING fts5(record_id UNINDEXED, text, tokenize='trigram')",
    ):
        conn.execute(sql)


def _migration_2(conn: sqlite3.Connection) -> None:
    """Record identity (external id + source + imported text hash); version moves to PRAGMA user_version."""
    conn.execute("ALTER TABLE records ADD COLUMN external_id TEXT")
    conn.execute("ALTER TABLE records ADD COLUMN source TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE records ADD COLUMN import_sha TEXT")
    # records saved before identity existed: their id was the input's id, their source unknown
    conn.execute("UPDATE records SET external_id = id, source = 'legacy'")
    conn.execute(
        "CREATE UNIQUE INDEX records_identity ON records(source, external_id, import_sha) "
        "WHERE external_id IS NOT NULL AND import_sha IS NOT NULL"
    )
    conn.execute("CREATE INDEX records_external ON records(external_id)")
    conn.execute("CREATE INDEX photo_analyses_sha ON photo_analyses(sha256)")
    conn.execute("CREATE INDEX record_photos_sha ON record_photos(sha256)")
    conn.execute("DROP TABLE IF EXISTS schema_version")


def _migration_3(conn: sqlite3.Connection) -> None:
    """Drafts hold the whole review state (entities, statuses, patient, photo), not only the text."""
    conn.execute("ALTER TABLE drafts ADD COLUMN state TEXT")


def _migration_4(conn: sqlite3.Connection) -> None:
    """Images of a record have a kind: the tongue photo (every existing row) or a page of the paper
    record read by OCR, with its page number and layout. The table is rebuilt because the key grows
    (the same image may be two pages of one PDF, e.g. two blank pages)."""
    conn.execute(
        """CREATE TABLE record_photos_v4 (
            record_id TEXT NOT NULL REFERENCES records(id), sha256 TEXT NOT NULL REFERENCES photos(sha256),
            added TEXT NOT NULL, kind TEXT NOT NULL DEFAULT 'tongue' CHECK (kind IN ('tongue', 'page')),
            page INTEGER NOT NULL DEFAULT 0, layout TEXT, PRIMARY KEY (record_id, kind, page, sha256))"""
    )
    conn.execute("INSERT INTO record_photos_v4 (record_id, sha256, added) SELECT record_id, sha256, added "
                 "FROM record_photos")
    conn.execute("DROP TABLE record_photos")
    conn.execute("ALTER TABLE record_photos_v4 RENAME TO record_photos")
    conn.execute("CREATE INDEX record_photos_sha ON record_photos(sha256)")


#: Migrations in order; ``MIGRATIONS[i]`` brings the schema from version i to i+1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_migration_1, _migration_2, _migration_3, _migration_4]
assert len(MIGRATIONS) == SCHEMA_VERSION


def _image_size(data: bytes) -> tuple[int | None, int | None]:
    """Width and height from the image header (no pixel decode), or (None, None) when unreadable."""
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            return int(im.width), int(im.height)
    except Exception:  # noqa: BLE001 - any undecodable photo is stored without a size
        return None, None


def translate_error(exc: BaseException, path: Path) -> StorageError:
    """One sentence for a sqlite3 (or SQLCipher) error: busy, damaged, or a generic database error."""
    msg = str(exc)
    low = msg.lower()
    if isinstance(exc, encryption.operational_errors()) and ("locked" in low or "busy" in low):
        return DatabaseBusy(f"database {path} is busy (another program is writing to it); try again")
    if isinstance(exc, encryption.database_errors()) and any(
        k in low for k in ("not a database", "malformed", "corrupt", "disk image", "file is encrypted")
    ):
        return DatabaseDamaged(f"database {path} is damaged ({msg})")
    if "readonly" in low or "unable to open" in low or "disk i/o" in low or "full" in low:
        return StorageError(f"database {path}: {msg}")
    return StorageError(f"database {path}: {msg}")


def _guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn sqlite3 errors raised by a Database method into StorageError subclasses."""

    @functools.wraps(fn)
    def wrapper(self: Database, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except encryption.database_errors() as exc:
            raise translate_error(exc, self.path) from exc

    return wrapper


def schema_version_of(conn: sqlite3.Connection) -> int:
    """The file's schema version: ``PRAGMA user_version``, or the v1 ``schema_version`` table."""
    v = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if v == 0:
        has_legacy = conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
        ).fetchone()
        if has_legacy:
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            v = int(row[0]) if row else 0
    return v


def integrity_problems(conn: sqlite3.Connection, full: bool = False) -> list[str]:
    """SQLite's own checks (quick, or full with the search index), foreign keys; [] when sound."""
    rows = conn.execute("PRAGMA integrity_check" if full else "PRAGMA quick_check").fetchall()
    problems = [str(r[0]) for r in rows if str(r[0]).lower() != "ok"]
    if problems:
        return problems
    problems += [f"foreign key: {r[0]} row {r[1]} -> {r[2]}" for r in conn.execute("PRAGMA foreign_key_check")]
    has_records = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'records'").fetchone()
    if has_records and full:  # the app's own invariants, read-only: each record has its version and one search row
        for sql, what in (
            ("SELECT COUNT(*) FROM records r WHERE NOT EXISTS (SELECT 1 FROM record_versions v "
             "WHERE v.record_id = r.id AND v.version = r.current_version)", "records without their current version"),
            ("SELECT COUNT(*) FROM records r LEFT JOIN (SELECT record_id, COUNT(*) AS c FROM records_fts "
             "GROUP BY record_id) f ON f.record_id = r.id WHERE COALESCE(f.c, 0) != 1",
             "records without exactly one search row"),
            ("SELECT COUNT(*) FROM records_fts f WHERE NOT EXISTS (SELECT 1 FROM records r WHERE r.id = f.record_id)",
             "search rows of deleted records"),
        ):
            n = conn.execute(sql).fetchone()[0]
            if n:
                problems.append(f"{n} {what}")
    has_fts = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'records_fts'").fetchone()
    if has_fts and full:  # needs the write lock: not on open (a batch import may be writing)
        try:
            conn.execute("INSERT INTO records_fts(records_fts, rank) VALUES ('integrity-check', 1)")
        except encryption.operational_errors() as exc:
            if "readonly" not in str(exc):  # a read-only check (of a backup) skips the index check
                problems.append(f"search index: {exc}")
        except encryption.database_errors() as exc:
            problems.append(f"search index: {exc}")
    return problems


class Database:
    """The app's SQLite store. One instance per thread (sqlite connections are per-thread).

    ``check`` runs ``PRAGMA quick_check`` on open (a damaged file raises
    :class:`DatabaseDamaged` before anything is written). ``backup_dir`` is where
    the copy made before a migration goes (default: ``<folder>/backups``).
    """

    def __init__(self, path: Path | str | None = None, *, passphrase: str | None = None, check: bool = True,
                 backup_dir: Path | None = None, busy_timeout_s: float = BUSY_TIMEOUT_S) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.backup_dir = backup_dir
        existed = self.path.exists() and self.path.stat().st_size > 0
        try:
            # Plain file -> sqlite3; encrypted (or new with a passphrase) -> SQLCipher; see records/encryption.py.
            # A file without the SQLite header and no passphrase raises PassphraseMissing ("encrypted or damaged").
            conn = encryption.connect(self.path, passphrase, timeout=busy_timeout_s, isolation_level=None)
        except encryption.PassphraseMissing as exc:
            raise EncryptedOrDamaged(str(exc)) from exc
        except encryption.database_errors() as exc:
            raise translate_error(exc, self.path) from exc
        self.conn = conn
        self._utils: Any = None
        try:
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA secure_delete=ON")
            if existed and check:
                problems = integrity_problems(conn)
                if problems:
                    raise DatabaseDamaged(f"database {self.path} is damaged ({problems[0]})")
            self._migrate(existed)
        except encryption.database_errors() as exc:
            conn.close()
            raise translate_error(exc, self.path) from exc
        except BaseException:
            conn.close()
            raise

    @property
    def db(self) -> Any:
        """The connection as a ``sqlite_utils.Database`` (imported on first use: it pulls in pandas, ~1 s)."""
        if self._utils is None:
            self._utils = _import_sqlite_utils().Database(self.conn)
        return self._utils

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, list(params))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]

    # -- lifecycle ---------------------------------------------------------------
    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (``BEGIN IMMEDIATE``: the write lock is taken at once, never half-way)."""
        conn = self.conn
        if conn.in_transaction:  # nested: part of the caller's transaction
            yield conn
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        return schema_version_of(self.conn)

    def _migrate(self, existed: bool) -> None:
        """Bring the file up to SCHEMA_VERSION, one transaction per migration; refuse a newer file."""
        current = schema_version_of(self.conn)
        if current > SCHEMA_VERSION:
            raise StorageError(
                f"database {self.path} has schema version {current}, newer than this app ({SCHEMA_VERSION}); "
                "update the application"
            )
        if current == SCHEMA_VERSION:
            return
        if existed and current > 0:
            from tcm_desktop.records.backup import backup_before_migration

            backup_before_migration(self.path, current, self.backup_dir)
        for target in range(current, SCHEMA_VERSION):
            with self.transaction() as conn:
                # another process may have migrated while we waited for the lock
                if schema_version_of(conn) > target:
                    continue
                MIGRATIONS[target](conn)
                conn.execute(f"PRAGMA user_version = {target + 1}")

    def check(self, full: bool = True) -> list[str]:
        """Problems found by SQLite's integrity check, foreign keys and the FTS index ([] when sound)."""
        return integrity_problems(self.conn, full=full)

    # -- patients ----------------------------------------------------------------
    def add_patient(self, name: str, sex: str = "", birth_year: int | None = None, notes: str = "") -> int:
        with self.transaction() as conn:
            return self._insert_patient(conn, name, sex, birth_year, notes)

    @staticmethod
    def _insert_patient(conn: sqlite3.Connection, name: str, sex: str = "", birth_year: int | None = None,
                        notes: str = "") -> int:
        cur = conn.execute(
            "INSERT INTO patients (name, sex, birth_year, notes) VALUES (?, ?, ?, ?)", (name, sex, birth_year, notes)
        )
        return int(cur.lastrowid)

    def get_patient(self, patient_id: int) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM patients WHERE id = ?", [patient_id])
        return rows[0] if rows else None

    def patients(self) -> list[dict[str, Any]]:
        return self._rows("SELECT * FROM patients ORDER BY name")

    # -- records -----------------------------------------------------------------
    def save_record(
        self,
        structured: StructuredRecord,
        patient_id: int | None = None,
        user: str = "",
        actions: Iterable[Mapping[str, Any]] = (),
        title: str | None = None,
        *,
        patient_name: str | None = None,
        photos: Iterable[PhotoInput] = (),
        clear_drafts: Iterable[str] = (),
    ) -> tuple[str, int]:
        """Append a new version of a record (creating the record) and return ``(record_id, version)``.

        ``structured.id`` is the internal id; an empty id gets a fresh UUID (and
        ``structured.id`` is set to it so the caller keeps saving the same record).
        Everything — patient (``patient_name`` creates one when ``patient_id`` is
        None), version, entities, search row, audit ``actions``, ``photos`` with
        their analyses, and ``clear_drafts`` — is written in one transaction.
        """
        res = self._save(structured, patient_id, user, actions, title, patient_name, photos, clear_drafts)
        return res.record_id, res.version

    def save(self, structured: StructuredRecord, *, patient_id: int | None = None, user: str = "",
             actions: Iterable[Mapping[str, Any]] = (), title: str | None = None, patient_name: str | None = None,
             photos: Iterable[PhotoInput] = (), clear_drafts: Iterable[str] = ()) -> SaveResult:
        """:meth:`save_record` returning the full :class:`SaveResult` (``unchanged`` when nothing changed)."""
        return self._save(structured, patient_id, user, actions, title, patient_name, photos, clear_drafts)

    def _save(self, structured: StructuredRecord, patient_id: int | None, user: str,
              actions: Iterable[Mapping[str, Any]], title: str | None, patient_name: str | None,
              photos: Iterable[PhotoInput], clear_drafts: Iterable[str]) -> SaveResult:
        if not structured.id:
            structured.id = uuid.uuid4().hex
        rid = structured.id
        at = now_iso()
        with self.transaction() as conn:
            row = conn.execute("SELECT current_version, patient_id, title FROM records WHERE id = ?", (rid,)).fetchone()
            if patient_id is None and patient_name and (row is None or row[1] is None):
                patient_id = self._insert_patient(conn, patient_name)
            if row is None:
                version = 1
                conn.execute(
                    "INSERT INTO records (id, patient_id, title, created, updated, current_version) VALUES (?,?,?,?,?,?)",
                    (rid, patient_id, title if title is not None else _default_title(structured.text), at, at, version),
                )
            else:
                current = int(row[0])
                same = conn.execute("SELECT structured FROM record_versions WHERE record_id = ? AND version = ?",
                                    (rid, current)).fetchone()
                actions = list(actions)
                if same is not None and same[0] == _payload(structured) and not actions and \
                        (patient_id is None or patient_id == row[1]) and (title is None or title == row[2]):
                    # nothing about the record changed: no new version (photos and drafts are still handled)
                    shas = [self._store_photo(conn, rid, p, at) for p in photos]
                    for key in {*clear_drafts, rid}:
                        conn.execute("DELETE FROM drafts WHERE key = ?", (key,))
                    return SaveResult(rid, current, created=False, unchanged=True, photos=shas)
                version = current + 1
                conn.execute(
                    "UPDATE records SET current_version = ?, updated = ?, patient_id = ?, title = ? WHERE id = ?",
                    (version, at, patient_id if patient_id is not None else row[1],
                     title if title is not None else row[2], rid),
                )
            self._write_version(conn, structured, version, at, user)
            for a in actions:
                self._insert_action(rid, version, a.get("action", "?"), a.get("before"), a.get("after"),
                                    a.get("at") or at, a.get("user", user))
            shas = [self._store_photo(conn, rid, p, at) for p in photos]
            for key in {*clear_drafts, rid}:
                conn.execute("DELETE FROM drafts WHERE key = ?", (key,))
        return SaveResult(rid, version, created=row is None, photos=shas)

    @_guarded
    def import_record(self, structured: StructuredRecord, external_id: str, source: str, *, user: str = "",
                      patient_name: str | None = None, photos: Iterable[PhotoInput] = (),
                      actions: Iterable[Mapping[str, Any]] = ()) -> SaveResult:
        """Store a record read from an input under a fresh internal id, unless it is already there.

        The same ``(source, external_id, text)`` returns the existing record
        unchanged (``unchanged=True``); anything else is a new record.
        """
        sha = text_sha(structured.text)
        with self.transaction() as conn:
            row = conn.execute(
                "SELECT id, current_version FROM records WHERE source = ? AND external_id = ? AND import_sha = ?",
                (source, external_id, sha),
            ).fetchone()
            if row is not None:
                structured.id = row[0]
                return SaveResult(row[0], int(row[1]), created=False, unchanged=True)
            structured.id = uuid.uuid4().hex
            res = self._save(structured, None, user, actions, None, patient_name, photos, ())
            conn.execute("UPDATE records SET external_id = ?, source = ?, import_sha = ? WHERE id = ?",
                         (external_id, source, sha, res.record_id))
        return res

    def _write_version(self, conn: sqlite3.Connection, structured: StructuredRecord, version: int, at: str,
                       user: str) -> None:
        rid = structured.id
        payload = _payload(structured)
        conn.execute(
            "INSERT INTO record_versions (record_id, version, text, structured, model_version, saved_at, user) "
            "VALUES (?,?,?,?,?,?,?)",
            (rid, version, structured.text, payload, structured.model_version, at, user),
        )
        conn.executemany(
            'INSERT INTO entities (record_id, version, start, "end", label, text, assertion, score, status, '
            "normalized, model_version) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                (rid, version, e.start, e.end, e.label, e.text, e.assertion, e.score, e.status,
                 json.dumps(e.normalized, ensure_ascii=False), structured.model_version)
                for e in structured.entities
            ],
        )
        conn.execute("DELETE FROM records_fts WHERE record_id = ?", (rid,))
        conn.execute("INSERT INTO records_fts (record_id, text) VALUES (?, ?)", (rid, structured.text))

    def _store_photo(self, conn: sqlite3.Connection, record_id: str, photo: PhotoInput, at: str) -> str:
        sha = hashlib.sha256(photo.data).hexdigest()
        width, height = _image_size(photo.data)
        conn.execute(
            "INSERT OR IGNORE INTO photos (sha256, data, path, width, height, added) VALUES (?,?,?,?,?,?)",
            (sha, photo.data, photo.path, width, height, at),
        )
        if photo.kind not in PHOTO_KINDS:
            raise ValueError(f"unknown photo kind {photo.kind!r}")
        conn.execute(
            "INSERT OR IGNORE INTO record_photos (record_id, sha256, added, kind, page, layout) VALUES (?,?,?,?,?,?)",
            (record_id, sha, at, photo.kind, photo.page if photo.kind == "page" else 0,
             None if photo.layout is None else json.dumps(dict(photo.layout), ensure_ascii=False,
                                                          separators=(",", ":"))),
        )
        if photo.analysis:
            conn.execute(
                "INSERT INTO photo_analyses (sha256, analysis, model_version, at) VALUES (?,?,?,?)",
                (sha, json.dumps(dict(photo.analysis), ensure_ascii=False), photo.model_version, at),
            )
        return sha

    def record_exists(self, record_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM records WHERE id = ?", [record_id]).fetchone() is not None

    def find_records(self, external_id: str, source: str | None = None) -> list[str]:
        """Internal ids of the records imported with this external id (and source), oldest first."""
        sql = "SELECT id FROM records WHERE external_id = ?"
        params: list[Any] = [external_id]
        if source is not None:
            sql += " AND source = ?"
            params.append(source)
        return [r[0] for r in self.conn.execute(sql + " ORDER BY created, rowid", params)]

    def load_record(self, record_id: str, version: int | None = None) -> StructuredRecord:
        """The record exactly as saved (current version unless ``version`` is given)."""
        if version is None:
            row = self.conn.execute("SELECT current_version FROM records WHERE id = ?", [record_id]).fetchone()
            if row is None:
                raise StorageError(f"no record {record_id!r}")
            version = int(row[0])
        row = self.conn.execute(
            "SELECT structured FROM record_versions WHERE record_id = ? AND version = ?", [record_id, version]
        ).fetchone()
        if row is None:
            raise StorageError(f"no version {version} of record {record_id!r}")
        return StructuredRecord.from_dict(json.loads(row[0]))

    def record_info(self, record_id: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM records WHERE id = ?", [record_id])
        return rows[0] if rows else None

    def versions(self, record_id: str) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT version, saved_at, user, model_version, "
            "(SELECT COUNT(*) FROM entities e WHERE e.record_id = v.record_id AND e.version = v.version) "
            "AS entities FROM record_versions v WHERE record_id = ? ORDER BY version",
            [record_id],
        )

    def entity_rows(self, record_id: str, version: int | None = None) -> list[dict[str, Any]]:
        if version is None:
            info = self.record_info(record_id)
            if info is None:
                return []
            version = info["current_version"]
        return self._rows(
            'SELECT * FROM entities WHERE record_id = ? AND version = ? ORDER BY start, "end"', [record_id, version]
        )

    def record_ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM records ORDER BY created, rowid")]

    def history(self, search: str = "", limit: int | None = 500) -> list[HistoryEntry]:
        """Records newest first; ``search`` matches the current text, title or patient name (any length)."""
        q = search.strip()
        base = (
            "SELECT r.id, r.title, r.patient_id, COALESCE(p.name, '') AS pname, r.created, r.updated, "
            "r.current_version, v.text, "
            "(SELECT COUNT(*) FROM entities e WHERE e.record_id = r.id AND e.version = r.current_version) AS n, "
            "COALESCE(r.external_id, ''), r.source "
            "FROM records r JOIN record_versions v ON v.record_id = r.id AND v.version = r.current_version "
            "LEFT JOIN patients p ON p.id = r.patient_id "
        )
        params: list[Any] = []
        if q:
            like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            names = "r.title LIKE ? ESCAPE '\\' OR p.name LIKE ? ESCAPE '\\' OR r.external_id LIKE ? ESCAPE '\\'"
            if len(q) >= 3:
                # trigram FTS: quote the whole query as one phrase so punctuation is literal.
                base += f"WHERE (r.id IN (SELECT record_id FROM records_fts WHERE records_fts MATCH ?) OR {names}) "
                params += ['"' + q.replace('"', '""') + '"', like, like, like]
            else:
                base += f"WHERE (v.text LIKE ? ESCAPE '\\' OR {names}) "
                params += [like, like, like, like]
        base += "ORDER BY r.updated DESC, r.rowid DESC"
        if limit is not None:
            base += " LIMIT ?"
            params.append(limit)
        out = []
        for row in self.conn.execute(base, params).fetchall():
            rid, title, pid, pname, created, updated, ver, text, n, ext, src = row
            out.append(HistoryEntry(rid, title, pid, pname, created, updated, int(ver), int(n), _snippet(text, q),
                                    ext, src))
        return out

    def delete_record(self, record_id: str, user: str = "") -> None:
        """Remove a record completely: versions, entities, search row, drafts, the text of its audit
        steps, and photos/analyses no other record uses (``secure_delete`` overwrites the freed pages).

        The audit trail keeps the step names and a 'delete_record' entry, without any clinical text.
        """
        with self.transaction() as conn:
            shas = [r[0] for r in conn.execute("SELECT sha256 FROM record_photos WHERE record_id = ?", (record_id,))]
            conn.execute("DELETE FROM entities WHERE record_id = ?", (record_id,))
            conn.execute("DELETE FROM record_versions WHERE record_id = ?", (record_id,))
            conn.execute("DELETE FROM record_photos WHERE record_id = ?", (record_id,))
            conn.execute("DELETE FROM records_fts WHERE record_id = ?", (record_id,))
            conn.execute("DELETE FROM drafts WHERE key = ?", (record_id,))
            conn.execute("DELETE FROM records WHERE id = ?", (record_id,))
            conn.execute("UPDATE review_actions SET before = NULL, after = NULL WHERE record_id = ?", (record_id,))
            for sha in shas:
                if conn.execute("SELECT 1 FROM record_photos WHERE sha256 = ?", (sha,)).fetchone() is None:
                    conn.execute("DELETE FROM photo_analyses WHERE sha256 = ?", (sha,))
                    conn.execute("DELETE FROM photos WHERE sha256 = ?", (sha,))
            self._insert_action(record_id, None, "delete_record", None, None, now_iso(), user)
        # merge FTS segments so the deleted text's tokens are gone, then move the WAL into the file
        with self.transaction() as conn:
            conn.execute("INSERT INTO records_fts(records_fts) VALUES ('optimize')")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    # -- audit -------------------------------------------------------------------
    def _insert_action(self, record_id: str, version: int | None, action: str, before: Any, after: Any,
                       at: str, user: str) -> None:
        self.conn.execute(
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
        with self.transaction():
            self._insert_action(record_id, version, action, before, after, now_iso(), user)

    def actions(self, record_id: str) -> list[ReviewAction]:
        rows = self.conn.execute(
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
        with self.transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO photos (sha256, data, path, width, height, added) VALUES (?,?,?,?,?,?)",
                (sha, data, path, width, height, now_iso()),
            )
        return sha

    def photo_bytes(self, sha256: str) -> bytes | None:
        row = self.conn.execute("SELECT data, path FROM photos WHERE sha256 = ?", [sha256]).fetchone()
        if row is None:
            return None
        if row[0] is not None:
            return bytes(row[0])
        return Path(row[1]).read_bytes() if row[1] else None

    def photo_info(self, sha256: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT sha256, path, width, height, added FROM photos WHERE sha256 = ?", [sha256])
        return rows[0] if rows else None

    def link_photo(self, record_id: str, sha256: str) -> None:
        with self.transaction() as conn:
            conn.execute("INSERT OR IGNORE INTO record_photos (record_id, sha256, added) VALUES (?,?,?)",
                         (record_id, sha256, now_iso()))

    def record_photos(self, record_id: str, kind: str = "tongue") -> list[str]:
        """The sha256 of the record's images of one kind (tongue photos unless asked), oldest first."""
        rows = self.conn.execute(
            "SELECT sha256 FROM record_photos WHERE record_id = ? AND kind = ? ORDER BY added, page, sha256",
            [record_id, kind],
        ).fetchall()
        return [r[0] for r in rows]

    def record_pages(self, record_id: str) -> list[StoredPage]:
        """The page images of the paper record this record was read from, in page order ([] when none)."""
        rows = self.conn.execute(
            "SELECT rp.page, rp.sha256, rp.layout FROM record_photos rp WHERE rp.record_id = ? AND rp.kind = 'page' "
            "ORDER BY rp.page, rp.added", [record_id],
        ).fetchall()
        out = []
        for page, sha, layout in rows:
            data = self.photo_bytes(sha)
            if data is not None:
                out.append(StoredPage(int(page), data, json.loads(layout) if layout else None, sha))
        return out

    def save_photo_analysis(self, sha256: str, analysis: Mapping[str, Any], model_version: str = "") -> None:
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO photo_analyses (sha256, analysis, model_version, at) VALUES (?,?,?,?)",
                (sha256, json.dumps(dict(analysis), ensure_ascii=False), model_version, now_iso()),
            )

    def photo_analysis(self, sha256: str) -> dict[str, Any] | None:
        """The latest analysis of a photo, or None when it was never analysed."""
        row = self.conn.execute(
            "SELECT analysis FROM photo_analyses WHERE sha256 = ? ORDER BY id DESC LIMIT 1", [sha256]
        ).fetchone()
        return json.loads(row[0]) if row else None

    def table_counts(self) -> dict[str, int]:
        """Rows per table (for tests and ``db check``'s summary)."""
        names = ("patients", "records", "record_versions", "entities", "review_actions", "photos",
                 "photo_analyses", "record_photos", "drafts", "records_fts")
        return {n: int(self.conn.execute(f"SELECT COUNT(*) FROM {n}").fetchone()[0]) for n in names}

    # -- drafts ------------------------------------------------------------------
    def save_draft(self, key: str, text: str, state: Mapping[str, Any] | None = None) -> None:
        """Autosave: one draft per record key (``"unsaved"`` for a new record), overwritten each time.

        ``state`` is the whole review state as JSON-able data (the app's draft: record with entities
        and statuses, patient, photo), so a crash loses nothing the doctor did.
        """
        payload = None if state is None else json.dumps(dict(state), ensure_ascii=False)
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO drafts (key, text, saved_at, state) VALUES (?,?,?,?) "
                "ON CONFLICT(key) DO UPDATE SET text = excluded.text, saved_at = excluded.saved_at, "
                "state = excluded.state",
                (key, text, now_iso(), payload),
            )

    def load_draft_state(self, key: str) -> dict[str, Any] | None:
        """The whole review state saved with a draft (None when there is no draft or it holds text only)."""
        row = self.conn.execute("SELECT state FROM drafts WHERE key = ?", [key]).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def drafts(self) -> list[dict[str, Any]]:
        """Every autosaved draft, newest first: ``key``, ``saved_at``."""
        return self._rows("SELECT key, saved_at FROM drafts ORDER BY saved_at DESC, rowid DESC")

    def load_draft(self, key: str) -> tuple[str, str] | None:
        """``(text, saved_at)`` of the draft, or None."""
        row = self.conn.execute("SELECT text, saved_at FROM drafts WHERE key = ?", [key]).fetchone()
        return (row[0], row[1]) if row else None

    def clear_draft(self, key: str) -> None:
        """Drop a draft, and the images only drafts held (a discarded page photo shows a patient's name)."""
        with self.transaction() as conn:
            conn.execute("DELETE FROM drafts WHERE key = ?", (key,))
            orphans = [r[0] for r in conn.execute(
                "SELECT p.sha256 FROM photos p WHERE NOT EXISTS (SELECT 1 FROM record_photos rp "
                "WHERE rp.sha256 = p.sha256) AND NOT EXISTS (SELECT 1 FROM drafts d "
                "WHERE instr(COALESCE(d.state, ''), p.sha256) > 0)")]
            for sha in orphans:
                conn.execute("DELETE FROM photo_analyses WHERE sha256 = ?", (sha,))
                conn.execute("DELETE FROM photos WHERE sha256 = ?", (sha,))


for _name, _fn in list(vars(Database).items()):
    if callable(_fn) and not _name.startswith("_") and _name not in ("transaction", "import_record"):
        setattr(Database, _name, _guarded(_fn))
Database._save = _guarded(Database._save)  # type: ignore[method-assign]


def _payload(structured: StructuredRecord) -> str:
    """The stored JSON of a version (compared to tell an edit from a save of the same record)."""
    return json.dumps(structured.to_dict(), ensure_ascii=False)


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
