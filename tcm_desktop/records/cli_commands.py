"""The record store's command line: ``tcm-desktop db ...`` and ``tcm-desktop import``.

    tcm-desktop db list    [--db PATH] [--format jsonl|csv]
    tcm-desktop db search  [--db PATH] [--format jsonl|csv] QUERY
    tcm-desktop db check   [--db PATH]
    tcm-desktop db backup  [--db PATH] DEST
    tcm-desktop db restore [--db PATH] SRC
    tcm-desktop db export  [--db PATH] [--format jsonl|csv] [--reviewed-only] [--deidentify [--shift-dates]]
    tcm-desktop db reanalyse [--db PATH] [--model DIR] [--id ID...] [--user NAME]
    tcm-desktop db encrypt [--db PATH] [--keep-backup]     (passphrase: TCM_DB_PASSPHRASE)
    tcm-desktop db decrypt [--db PATH] [--no-backup]
    tcm-desktop import     [--db PATH] [--reviewed] [--user NAME] FILE.jsonl...

Exit status: 0 ok, 1 bad input (or ``db check`` found a problem), 3 database
error; one line on standard error, never a traceback. ``import`` writes one
JSON line per record *after* its transaction committed, so a script (and the
fault-injection test) knows exactly what is saved.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Callable
from typing import Any, TextIO

from tcm_desktop.records import inputs
from tcm_desktop.records.backup import (
    BackupError,
    backup_to,
    check_file,
    connect_read_only,
    restore,
    rotate_backups,
)
from tcm_desktop.records.database import Database, StorageError, default_db_path

EXIT_OK, EXIT_INPUT_ERROR, EXIT_MODEL_ERROR, EXIT_DB_ERROR = 0, 1, 2, 3
LIST_COLUMNS = ("record_id", "external_id", "source", "patient", "title", "versions", "updated", "entities",
                "reviewed")


def add_parsers(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="list, search, check, back up, restore or export the record database")
    dsub = db.add_subparsers(dest="db_command", required=True)

    def with_db(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--db", help="database file (default: the app's database)")
        return p

    p = with_db(dsub.add_parser("list", help="one line per record"))
    p.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    p = with_db(dsub.add_parser("search", help="records whose patient, title or text matches QUERY"))
    p.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    p.add_argument("query", metavar="QUERY")
    with_db(dsub.add_parser("check", help="exit 0 when the database is sound, 1 with the problem named"))
    p = with_db(dsub.add_parser("backup", help="write a consistent copy of the database to DEST"))
    p.add_argument("dest", metavar="DEST")
    p = with_db(dsub.add_parser("restore", help="replace the database with SRC (checked first; the old file is kept)"))
    p.add_argument("src", metavar="SRC")
    p = with_db(dsub.add_parser("export", help="every record in the structure output format, with review status"))
    p.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    p.add_argument("--reviewed-only", action="store_true", help="only records whose entities are all reviewed")
    p.add_argument("--deidentify", action="store_true",
                   help="for research: names, phones, ID/hospital/insurance numbers, addresses, e-mails -> placeholders")
    p.add_argument("--shift-dates", action="store_true", help="with --deidentify: shift dates by a per-patient offset")
    p = with_db(dsub.add_parser("reanalyse", help="re-run a model over saved records, keeping every review decision"))
    p.add_argument("--model", help="model directory (default: the shipped models/ner)")
    p.add_argument("--id", dest="ids", action="append", metavar="ID", help="a record id (repeat; default: all)")
    p.add_argument("--user", default="", help="user name recorded in the audit trail")
    p = with_db(dsub.add_parser("encrypt", help="encrypt a plain database in place (SQLCipher; TCM_DB_PASSPHRASE)"))
    p.add_argument("--keep-backup", action="store_true", help="keep the plain original (it is NOT encrypted)")
    p = with_db(dsub.add_parser("decrypt", help="turn an encrypted database back into a plain one"))
    p.add_argument("--no-backup", action="store_true", help="do not keep the encrypted original")

    imp = with_db(sub.add_parser("import", help="store records with their entities (structure output format)"))
    imp.add_argument("inputs", nargs="+", metavar="FILE", help=".jsonl with {id,text,patient?,entities} lines, or -")
    imp.add_argument("--reviewed", action="store_true", help="store the entities as the doctor's accepted result")
    imp.add_argument("--user", default="", help="user name recorded in the database")


def db_failures() -> tuple[type[BaseException], ...]:
    """Every exception that means "the database cannot be used" (plain or encrypted): exit 3, one line."""
    from tcm_desktop.records import encryption

    return (StorageError, BackupError, encryption.PassphraseError, encryption.ConversionError,
            *encryption.database_errors())


def guarded(body: Callable[[], int], stderr: TextIO, os_error: Callable[[OSError], str], os_exit: int) -> int:
    """Run a command's body so that a database or file failure ends as one ``error:`` line and an exit code
    (a database failure exits 3; a file failure says ``os_error(exc)`` and exits ``os_exit``)."""
    try:
        return body()
    except db_failures() as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_DB_ERROR
    except OSError as exc:
        stderr.write(f"error: {os_error(exc)}\n")
        return os_exit


def run_records_command(args: argparse.Namespace, stdout: TextIO, stderr: TextIO, stdin: TextIO) -> int:
    def body() -> int:
        if args.command == "import":
            return cmd_import(args, stdout, stderr, stdin)
        return DB_COMMANDS[args.db_command](args, stdout, stderr)

    return guarded(body, stderr, lambda exc: f"{exc.filename or ''}: {exc.strerror or exc}", EXIT_DB_ERROR)


def _db_path(args: argparse.Namespace):  # noqa: ANN202 - Path
    from pathlib import Path

    return Path(args.db) if args.db else default_db_path()


def _open(args: argparse.Namespace, create: bool = False) -> Database:
    path = _db_path(args)
    if not create and not path.exists():
        raise StorageError(f"no database at {path}")
    db = Database(path)
    rotate_backups(db.path)
    return db


def _write_rows(rows: list[dict[str, Any]], fmt: str, stdout: TextIO, columns: tuple[str, ...]) -> None:
    if fmt == "jsonl":
        for r in rows:
            stdout.write(json.dumps(r, ensure_ascii=False) + "\n")
        return
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\r\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v for k, v in r.items()})
    stdout.write(buf.getvalue())


def cmd_list(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from tcm_desktop.records.service import RecordService

    with _open(args) as db:
        _write_rows(RecordService(db).list_rows(getattr(args, "query", "")), args.format, stdout, LIST_COLUMNS)
    return EXIT_OK


def cmd_search(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    if not args.query.strip():
        stderr.write("error: empty search query\n")
        return EXIT_INPUT_ERROR
    return cmd_list(args, stdout, stderr)


def cmd_check(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    problems = check_file(_db_path(args), empty_ok=True)
    if problems:
        stderr.write(f"error: {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "") + "\n")
        return EXIT_INPUT_ERROR
    conn = connect_read_only(_db_path(args))  # a check never writes
    try:
        has = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'records'").fetchone()
        counts = [conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] if has else 0
                  for t in ("records", "record_versions", "photos")]
    finally:
        conn.close()
    stdout.write(f"ok: {counts[0]} records, {counts[1]} versions, {counts[2]} photos\n")
    return EXIT_OK


def cmd_backup(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    path = _db_path(args)
    problems = check_file(path)
    if problems:
        stderr.write(f"error: not backed up: {problems[0]}\n")
        return EXIT_DB_ERROR
    out = backup_to(path, args.dest)
    stdout.write(f"backed up to {out}\n")
    return EXIT_OK


def cmd_restore(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    problems = check_file(args.src)
    if problems:
        stderr.write(f"error: not restored: {problems[0]}\n")
        return EXIT_INPUT_ERROR
    kept = restore(_db_path(args), args.src)
    stdout.write(f"restored {args.src}" + (f"; the replaced file is kept at {kept}" if kept else "") + "\n")
    return EXIT_OK


EXPORT_CSV_COLUMNS = ("record_id", "external_id", "source", "patient", "version", "start", "end", "label", "text",
                      "assertion", "review", "score", "normalized")


def cmd_export(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from tcm_desktop.records.service import RecordService

    deid = None
    if args.deidentify:
        from tcm_desktop.records.deidentify import Deidentifier

        deid = Deidentifier(shift_dates=args.shift_dates)
    with _open(args) as db:
        rows = list(RecordService(db).export_rows(args.reviewed_only, deid))
    if args.format == "jsonl":
        _write_rows(rows, "jsonl", stdout, ())
        return EXIT_OK
    flat = [{"record_id": r["id"], **{k: r[k] for k in ("external_id", "source", "patient", "version")}, **e}
            for r in rows for e in r["entities"]]
    _write_rows(flat, "csv", stdout, EXPORT_CSV_COLUMNS)
    return EXIT_OK


def cmd_import(args: argparse.Namespace, stdout: TextIO, stderr: TextIO, stdin: TextIO) -> int:
    from tcm_desktop.records.service import RecordService

    problems: list[str] = []
    data = None
    if "-" in args.inputs:
        data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode("utf-8")
    items = list(inputs.read_inputs(args.inputs, data, problems, with_entities=True))
    for msg in problems:
        stderr.write(f"error: {msg}\n")
    if not items:
        return EXIT_INPUT_ERROR

    def saved(res: Any, inp: inputs.InputRecord) -> None:
        status = "unchanged" if res.unchanged else "saved"
        stdout.write(json.dumps({"record_id": res.record_id, "external_id": inp.external_id, "source": inp.source,
                                 "status": status}, ensure_ascii=False) + "\n")
        stdout.flush()

    with _open(args, create=True) as db:
        summary = RecordService(db).import_records(items, reviewed=args.reviewed, user=args.user, on_saved=saved)
    stderr.write(f"imported {len(summary.saved)} new, {len(summary.unchanged)} already there, "
                 f"{len(problems)} refused\n")
    return EXIT_INPUT_ERROR if problems else EXIT_OK


def cmd_convert(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``db encrypt`` / ``db decrypt``: convert the file in place (backup first, verified after)."""
    from tcm_desktop.records import encryption

    path = _db_path(args)
    passphrase = encryption.env_passphrase()
    if not passphrase:
        stderr.write(f"error: set {encryption.PASSPHRASE_ENV} to the database passphrase\n")
        return EXIT_DB_ERROR
    if args.db_command == "encrypt":
        backup = encryption.encrypt_database(path, passphrase, keep_backup=args.keep_backup)
    else:
        backup = encryption.decrypt_database(path, passphrase, keep_backup=not args.no_backup)
    stdout.write(f"{path}: {args.db_command}ed" + (f" (previous file kept as {backup})" if backup else "") + "\n")
    return EXIT_OK


def cmd_reanalyse(args: argparse.Namespace, stdout: TextIO, stderr: TextIO, engine_factory: Any = None) -> int:
    """``db reanalyse``: a (possibly adapted) model over saved records; reviewed entities stay exactly.

    One JSON line per record on stdout (id, kept, suggested, skipped, version saved or null when
    nothing changed); the merge is :func:`tcm_desktop.review_merge.reanalyse_saved`.
    """
    from tcm_desktop.artifacts import ModelError
    from tcm_desktop.review_merge import reanalyse_saved

    with _open(args) as db:
        missing = [i for i in args.ids or [] if not db.record_exists(i)]
        if missing:
            stderr.write(f"error: no saved record with id {', '.join(missing)}\n")
            return EXIT_INPUT_ERROR
        try:
            if engine_factory is not None:
                engine = engine_factory(args.model)
            else:
                from tcm_desktop.text.engine import StructuringEngine

                engine = StructuringEngine(args.model)
        except ModelError as exc:
            stderr.write(f"error: {exc}\n")
            return EXIT_MODEL_ERROR
        for summary in reanalyse_saved(db, engine, args.ids, user=args.user):
            stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
    return EXIT_OK


DB_COMMANDS = {"list": cmd_list, "search": cmd_search, "check": cmd_check, "backup": cmd_backup,
               "restore": cmd_restore, "export": cmd_export, "reanalyse": cmd_reanalyse, "encrypt": cmd_convert, "decrypt": cmd_convert}
