"""Backups of the record database: SQLite's online backup API, rotation, checked restore.

Why the online backup API (``sqlite3.Connection.backup``) and not a file copy:
it copies a consistent snapshot even while the app or a batch import writes
(WAL content included), which copying ``tcm.sqlite3`` alone would not.

* :func:`rotate_backups` runs at start: at most one automatic backup a day,
  the last ``keep`` are kept (``<folder>/backups/<stem>-auto-<UTC time>.sqlite3``).
* :func:`backup_before_migration` keeps a copy of a file before its schema is
  upgraded (``<stem>-pre-v<N>-<time>.sqlite3``), never rotated away.
* :func:`restore` checks the source first (a sound SQLite file of a schema this
  app can read) and keeps the file it replaces (``<stem>-replaced-<time>``).
* :func:`set_aside` renames a damaged file (with its ``-wal``/``-shm``) so it is
  kept, never deleted, and a new or restored database can take its place.

Backups of an encrypted database stay encrypted under the same passphrase
(the one this process opened it with, or ``TCM_DB_PASSPHRASE``).
"""

from __future__ import annotations

import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tcm_desktop.records import encryption

DAY_S = 24 * 3600
KEEP = 10


class BackupError(RuntimeError):
    """A backup or restore that could not be done; the message says why."""


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def default_backup_dir(db_path: Path) -> Path:
    return Path(db_path).parent / "backups"


def connect_read_only(path: Path | str, timeout: float = 5) -> sqlite3.Connection:
    """A read-only connection (the path percent-encoded, so ``?``, ``#`` or ``%`` in a folder name are safe)."""
    return sqlite3.connect(Path(path).resolve().as_uri() + "?mode=ro", uri=True, timeout=timeout)


def _open_source(path: Path, timeout: float = 10) -> tuple[Any, str | None]:
    """A connection for reading ``path`` and its passphrase: plain read-only, or keyed SQLCipher."""
    if encryption.is_encrypted(path):
        key = encryption.known_passphrase(path)
        return encryption.connect(path, key, timeout=timeout), key
    return connect_read_only(path, timeout=timeout), None


def backup_to(db_path: Path | str, dest: Path | str) -> Path:
    """Write a consistent copy of ``db_path`` to ``dest`` (via a temporary file, then rename)."""
    db_path, dest = Path(db_path), Path(dest)
    if dest.resolve() == db_path.resolve():
        raise BackupError(f"backup target {dest} is the database itself")
    if not db_path.exists():
        raise BackupError(f"no database at {db_path}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        src, key = _open_source(db_path)
        try:
            if key:
                encryption.copy_database(src, tmp, key)
            else:
                out = sqlite3.connect(str(tmp))
                try:
                    src.backup(out)
                    out.execute("PRAGMA journal_mode=DELETE").fetchone()
                finally:
                    out.close()
        finally:
            src.close()
        _fsync(tmp)
        os.replace(tmp, dest)
    except (*encryption.database_errors(), encryption.PassphraseError) as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"cannot back up {db_path}: {exc}") from exc
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"cannot write backup {dest}: {exc.strerror or exc}") from exc
    return dest


def _fsync(path: Path) -> None:
    with open(path, "rb+") as f:
        os.fsync(f.fileno())


def backup_before_migration(db_path: Path, version: int, backup_dir: Path | None = None) -> Path:
    folder = backup_dir or default_backup_dir(db_path)
    return backup_to(db_path, folder / f"{Path(db_path).stem}-pre-v{version}-{_stamp()}.sqlite3")


def auto_backups(db_path: Path, backup_dir: Path | None = None) -> list[Path]:
    """The automatic backups of this database, oldest first."""
    folder = backup_dir or default_backup_dir(db_path)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{Path(db_path).stem}-auto-*.sqlite3"))


def all_backups(db_path: Path, backup_dir: Path | None = None) -> list[Path]:
    """Every backup of this database (automatic, pre-migration, replaced), newest first."""
    folder = backup_dir or default_backup_dir(db_path)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{Path(db_path).stem}-*.sqlite3"), key=lambda p: p.stat().st_mtime, reverse=True)


def rotate_backups(db_path: Path, backup_dir: Path | None = None, keep: int = KEEP,
                   min_interval_s: float = DAY_S) -> Path | None:
    """Make an automatic backup unless the newest is younger than ``min_interval_s``; keep the last ``keep``."""
    db_path = Path(db_path)
    if not db_path.exists() or db_path.stat().st_size == 0:
        return None
    existing = auto_backups(db_path, backup_dir)
    if existing and time.time() - existing[-1].stat().st_mtime < min_interval_s:
        return None
    folder = backup_dir or default_backup_dir(db_path)
    made = backup_to(db_path, folder / f"{db_path.stem}-auto-{_stamp()}.sqlite3")
    for old in auto_backups(db_path, backup_dir)[: -keep or None]:
        old.unlink(missing_ok=True)
    return made


def check_file(path: Path | str, empty_ok: bool = False) -> list[str]:
    """Problems that stop ``path`` being used as this app's database ([] when sound). Opens it read-only.

    ``empty_ok``: a zero-byte file or one without any table (a first start killed
    before its first migration committed) is sound: the app initialises it on open.
    """
    from tcm_desktop.records.database import SCHEMA_VERSION, integrity_problems, schema_version_of

    path = Path(path)
    if not path.is_file():
        return [f"{path} does not exist"]
    if path.stat().st_size == 0:
        return [] if empty_ok else [f"{path} is empty"]
    try:
        conn, _ = _open_source(path, timeout=5)
        try:
            problems = integrity_problems(conn, full=True)
            if problems:
                return problems
            version = schema_version_of(conn)
            if version > SCHEMA_VERSION:
                return [f"{path} has schema version {version}, newer than this app ({SCHEMA_VERSION})"]
            if version < 1 and empty_ok and not conn.execute("SELECT 1 FROM sqlite_master").fetchone():
                return []
            if version < 1:
                return [f"{path} is an SQLite file but not a TCM Structurer database"]
            return []
        finally:
            conn.close()
    except encryption.PassphraseError as exc:
        return [str(exc)]
    except encryption.database_errors() as exc:
        return [f"{path} is not a readable database ({exc})"]


def set_aside(db_path: Path, label: str = "damaged") -> Path | None:
    """Rename the database (and its -wal/-shm) to ``<name>.<label>-<time>``; the kept path, or None if absent."""
    db_path = Path(db_path)
    if not db_path.exists():
        return None
    stamp = _stamp()
    kept = db_path.with_name(f"{db_path.name}.{label}-{stamp}")
    os.replace(db_path, kept)
    for suffix in ("-wal", "-shm"):
        side = db_path.with_name(db_path.name + suffix)
        if side.exists():
            os.replace(side, kept.with_name(kept.name + suffix))
    return kept


def restore(db_path: Path | str, src: Path | str, backup_dir: Path | None = None) -> Path | None:
    """Replace the database with the backup ``src`` after checking it; return where the old file was kept.

    Close the app (every connection to ``db_path``) first. A readable current
    file is kept as a backup copy; an unreadable one is renamed aside.
    """
    db_path, src = Path(db_path), Path(src)
    problems = check_file(src)
    if problems:
        raise BackupError(f"not restored: {problems[0]}")
    if db_path.exists() and src.resolve() == db_path.resolve():
        raise BackupError("the source is the database itself")
    staged = db_path.with_name(f".{db_path.name}.restore-{os.getpid()}.tmp")
    backup_to(src, staged)
    kept: Path | None = None
    if db_path.exists():
        if not check_file(db_path):
            folder = backup_dir or default_backup_dir(db_path)
            kept = backup_to(db_path, folder / f"{db_path.stem}-replaced-{_stamp()}.sqlite3")
            for suffix in ("", "-wal", "-shm"):
                db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)
        else:
            kept = set_aside(db_path)
    os.replace(staged, db_path)
    return kept
