"""Encryption at rest for the record database: SQLCipher 4 through ``sqlcipher3``.

Why SQLCipher: it encrypts every page of the main file *and* of the ``-wal``
journal (AES-256, key derived from the passphrase with PBKDF2-HMAC-SHA512,
256 000 iterations), so a stolen disk or a copied file shows no record text,
while the app keeps SQLite's SQL, FTS5 and WAL unchanged (``sqlite-utils``
works on a ``sqlcipher3`` connection as on a ``sqlite3`` one).

A plain file stays a plain ``sqlite3`` connection (no behaviour change for
clinics that do not encrypt); a file that does not start with SQLite's header
is taken as encrypted and needs the passphrase. The passphrase is given by the
caller (the app's prompt) or, for the command line, by ``TCM_DB_PASSPHRASE``.

:func:`encrypt_database` / :func:`decrypt_database` convert a file in place
without ever leaving a damaged one: the converted copy is written next to it
with ``sqlcipher_export``, checked (integrity, same tables, same row counts),
and only then swapped in; the original is kept as a backup until the swap is
verified.
"""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PASSPHRASE_ENV = "TCM_DB_PASSPHRASE"
SQLITE_HEADER = b"SQLite format 3\x00"


# Passphrases that opened a file in this process, by resolved path: every thread opens its own
# Database on the same path (the batch import's worker too) without the passphrase being passed around.
_REMEMBERED: dict[Path, str] = {}


class PassphraseError(RuntimeError):
    """The database cannot be opened with the passphrase given (missing or wrong)."""


class PassphraseMissing(PassphraseError):
    """An encrypted database was opened without a passphrase."""


class WrongPassphrase(PassphraseError):
    """The passphrase does not decrypt the database (or the file is not a database)."""


class ConversionError(RuntimeError):
    """Encrypting or decrypting a file failed; the original file is untouched."""


def _sqlcipher() -> Any:
    """The ``sqlcipher3`` module, imported lazily (plain databases never need it)."""
    try:
        import sqlcipher3
    except ImportError as exc:  # pragma: no cover - it is a declared dependency
        raise ConversionError("SQLCipher support is not installed (package sqlcipher3-wheels)") from exc
    return sqlcipher3


def database_errors() -> tuple[type[BaseException], ...]:
    """Exception classes of both drivers, for callers that catch any database error."""
    return (sqlite3.Error, _sqlcipher().Error)


def operational_errors() -> tuple[type[BaseException], ...]:
    """Both drivers' ``OperationalError`` (busy, locked, read-only, I/O)."""
    return (sqlite3.OperationalError, _sqlcipher().OperationalError)


def env_passphrase() -> str | None:
    """The command line's passphrase (``TCM_DB_PASSPHRASE``), or None when unset or empty."""
    return os.environ.get(PASSPHRASE_ENV) or None


def is_encrypted(path: str | Path) -> bool:
    """True when the file exists, is not empty and is not a plain SQLite file.

    A SQLCipher file starts with a random salt instead of ``SQLite format 3``;
    anything else that is not SQLite (a text file…) also lands here and then
    fails to open with a :class:`WrongPassphrase`.
    """
    p = Path(path)
    try:
        with p.open("rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return False
    return len(head) > 0 and head != SQLITE_HEADER


def _quote(passphrase: str) -> str:
    """A SQL string literal for PRAGMA key (which takes no bound parameters)."""
    if not passphrase or "\x00" in passphrase:
        raise PassphraseError("the passphrase must be a non-empty text without NUL characters")
    return "'" + passphrase.replace("'", "''") + "'"


def _keyed(path: Path, passphrase: str, timeout: float, isolation_level: str | None = "") -> Any:
    """A ``sqlcipher3`` connection keyed and checked: a wrong key raises :class:`WrongPassphrase`."""
    sqlcipher3 = _sqlcipher()
    conn = sqlcipher3.connect(str(path), timeout=timeout, check_same_thread=True, isolation_level=isolation_level)
    # SQLCipher logs a failed HMAC check to stderr by default; the caller reports it in one sentence.
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = {_quote(passphrase)}")
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.DatabaseError:
        conn.close()
        raise WrongPassphrase(f"wrong passphrase for the encrypted database {path} (or it is not a database)") from None
    # Sort and temp tables stay in memory, never in a clear temporary file.
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


def connect(path: str | Path, passphrase: str | None = None, timeout: float = 30,
            isolation_level: str | None = "") -> Any:
    """Open ``path`` for :class:`~tcm_desktop.records.database.Database`.

    * an existing encrypted file needs ``passphrase`` (else ``TCM_DB_PASSPHRASE``):
      :class:`PassphraseMissing` / :class:`WrongPassphrase` otherwise;
    * a new (missing or empty) file is created encrypted when a passphrase is
      given explicitly, plain otherwise;
    * an existing plain file opens plain (the passphrase is not needed; use
      :func:`encrypt_database` to convert it).
    """
    p = Path(path)
    if is_encrypted(p):
        key = passphrase or _REMEMBERED.get(p.resolve()) or env_passphrase()
        if not key:
            raise PassphraseMissing(
                f"the database {p} is encrypted or damaged: give its passphrase (command line: set {PASSPHRASE_ENV})"
            )
        conn = _keyed(p, key, timeout, isolation_level)
    elif passphrase and (not p.exists() or p.stat().st_size == 0):
        conn = _keyed(p, key := passphrase, timeout, isolation_level)
    else:
        return sqlite3.connect(str(p), timeout=timeout, isolation_level=isolation_level)
    _REMEMBERED[p.resolve()] = key
    return conn


def known_passphrase(path: str | Path) -> str | None:
    """The passphrase this process already opened ``path`` with, else ``TCM_DB_PASSPHRASE``."""
    return _REMEMBERED.get(Path(path).resolve()) or env_passphrase()


def check_passphrase(path: str | Path, passphrase: str) -> bool:
    """True when ``passphrase`` opens the encrypted ``path`` (the app lock's check)."""
    try:
        _keyed(Path(path), passphrase, 5).close()
    except PassphraseError:
        return False
    return True


def forget_passphrases() -> None:
    """Drop the passphrases this process remembers (tests; closing the app)."""
    _REMEMBERED.clear()


def open_plain_or_encrypted(path: str | Path, passphrase: str | None = None) -> Any:
    """:func:`connect` for a file that must already exist (conversions, checks)."""
    p = Path(path)
    if not p.is_file() or p.stat().st_size == 0:
        raise ConversionError(f"no database at {p}")
    return connect(p, passphrase)


# -- conversion ----------------------------------------------------------------------------------

def _table_counts(conn: Any) -> dict[str, int]:
    """Rows per table (FTS shadow tables included): what a faithful copy must keep."""
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {n: int(conn.execute(f'SELECT count(*) FROM "{n.replace(chr(34), chr(34) * 2)}"').fetchone()[0])
            for n in names}


def _check_integrity(conn: Any, what: Path) -> None:
    rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    if rows != ["ok"]:
        raise ConversionError(f"{what} fails the integrity check: {'; '.join(map(str, rows[:3]))}")


def _fold_wal(path: Path, passphrase: str | None) -> None:
    """Write the WAL back into the main file so one file holds everything; refuse a file in use."""
    conn = connect(path, passphrase)
    try:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    finally:
        conn.close()
    if busy:
        raise ConversionError(f"{path} is in use by another program (close the app first)")
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists() and side.stat().st_size == 0:
            side.unlink()
        elif side.exists() and suffix == "-wal":
            raise ConversionError(f"{path} is in use by another program (close the app first)")


def _remove_with_sidecars(path: Path) -> None:
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        p.unlink(missing_ok=True)


def _export(src: Path, dest: Path, src_key: str | None, dest_key: str) -> None:
    """``sqlcipher_export`` ``src`` into the new file ``dest`` (``dest_key`` '' = plain)."""
    sqlcipher3 = _sqlcipher()
    conn = _keyed(src, src_key, 30) if src_key else sqlcipher3.connect(str(src))
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute("ATTACH DATABASE ? AS converted KEY ?", (str(dest), dest_key))
        conn.execute("SELECT sqlcipher_export('converted')")
        version = int(conn.execute("PRAGMA main.user_version").fetchone()[0])
        conn.execute(f"PRAGMA converted.user_version = {version}")
        conn.execute("DETACH DATABASE converted")
    except sqlcipher3.Error as exc:
        raise ConversionError(f"could not convert {src}: {exc}") from None
    finally:
        conn.close()


def _verify(path: Path, passphrase: str | None, expected: dict[str, int]) -> None:
    conn = connect(path, passphrase) if passphrase else sqlite3.connect(str(path))
    try:
        _check_integrity(conn, path)
        got = _table_counts(conn)
    finally:
        conn.close()
    if got != expected:
        raise ConversionError(f"the converted copy {path} does not hold the same rows as the original")


def _convert(src: str | Path, src_key: str | None, dest_key: str | None, keep_backup: bool,
             tag: str) -> Path | None:
    """Shared steps of encrypt/decrypt; returns the backup's path when it is kept."""
    path = Path(src)
    _fold_wal(path, src_key)
    reader = connect(path, src_key)
    try:
        _check_integrity(reader, path)
        expected = _table_counts(reader)
    finally:
        reader.close()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    tmp = path.with_name(f"{path.name}.{tag}-tmp")
    backup = path.with_name(f"{path.name}.{stamp}.before-{tag}")
    _remove_with_sidecars(tmp)
    try:
        _export(path, tmp, src_key, dest_key or "")
        _verify(tmp, dest_key, expected)
    except BaseException:
        _remove_with_sidecars(tmp)
        raise
    # The original becomes the backup (a rename: atomic on one file system), then the verified copy
    # takes its name; if that last check fails the backup is put back.
    os.replace(path, backup)
    try:
        os.replace(tmp, path)
        _verify(path, dest_key, expected)
    except BaseException:
        _remove_with_sidecars(path)
        os.replace(backup, path)
        raise
    if keep_backup:
        return backup
    backup.unlink()
    return None


def encrypt_database(path: str | Path, passphrase: str, keep_backup: bool = False) -> Path | None:
    """Encrypt the plain database ``path`` in place with ``passphrase``.

    The plain original is kept as ``<name>.<time>.before-encrypt`` until the
    encrypted file is verified, then deleted unless ``keep_backup`` (a plain
    backup is exactly the clear copy encryption is meant to remove). Returns the
    kept backup's path, or None.
    """
    _quote(passphrase)
    path = Path(path)
    if is_encrypted(path):
        raise ConversionError(f"{path} is already encrypted")
    open_plain_or_encrypted(path).close()
    return _convert(path, None, passphrase, keep_backup, "encrypt")


def decrypt_database(path: str | Path, passphrase: str, keep_backup: bool = True) -> Path | None:
    """Turn the encrypted database ``path`` back into a plain SQLite file.

    The encrypted original is kept as ``<name>.<time>.before-decrypt`` (it is
    still encrypted, so keeping it exposes nothing) unless ``keep_backup`` is False.
    """
    path = Path(path)
    if not is_encrypted(path):
        raise ConversionError(f"{path} is not encrypted")
    open_plain_or_encrypted(path, passphrase).close()
    return _convert(path, passphrase, None, keep_backup, "decrypt")


def change_passphrase(path: str | Path, old: str, new: str) -> None:
    """Re-key an encrypted database (SQLCipher rewrites every page under the new key)."""
    _quote(new)
    if not is_encrypted(path):
        raise ConversionError(f"{path} is not encrypted")
    conn = open_plain_or_encrypted(path, old)
    try:
        conn.execute(f"PRAGMA rekey = {_quote(new)}")
    finally:
        conn.close()
    _REMEMBERED[Path(path).resolve()] = new


def copy_database(src_conn: Any, dest: str | Path, passphrase: str | None) -> Path:
    """A consistent copy of an open database (the SQLite backup API).

    With a passphrase the copy is encrypted under the same key, so backups of an
    encrypted database stay encrypted; without one it is a plain copy.
    """
    dest = Path(dest)
    _remove_with_sidecars(dest)
    target = _keyed(dest, passphrase, 30) if passphrase else sqlite3.connect(str(dest))
    try:
        src_conn.backup(target)
    finally:
        target.close()
    return dest

