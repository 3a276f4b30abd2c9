"""Command line: ``tcm-desktop`` (the GUI) and the headless jobs.

    tcm-desktop                      start the desktop application
    tcm-desktop structure [--format jsonl|json|csv] [--db PATH] [--pdf PATH] INPUT...
    tcm-desktop tongue [--masks DIR] IMAGE...
    tcm-desktop db encrypt|decrypt [--db PATH]     convert the record database (TCM_DB_PASSPHRASE)
    tcm-desktop db export [--db PATH] [--deidentify [--shift-dates]] [--format jsonl|json|csv] [--out FILE]
    tcm-desktop --self-test          load the models, analyse a sample record, exit 0/1

``structure`` reads ``.txt`` files (id = file stem), ``.jsonl`` files with
``{"id", "text"}`` per line, or ``-`` for standard input. A bad input gets a
message naming it on standard error and a non-zero exit status at the end;
the other inputs are still processed. With several records, ``--pdf PATH``
is a folder that receives ``<id>.pdf`` per record.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

EXIT_OK, EXIT_INPUT_ERROR, EXIT_MODEL_ERROR, EXIT_DB_ERROR = 0, 1, 2, 3


class InputError(Exception):
    """An input that cannot be read as records; the message names it."""


def read_inputs(paths: list[str], stdin: TextIO, errors: list[str]) -> Iterator[tuple[str, str]]:
    """Yield ``(id, text)`` records from every input; collect messages for bad ones."""
    for name in paths:
        try:
            if name == "-":
                data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode("utf-8")
                yield from _records_from_bytes("stdin", data, as_jsonl=False, errors=errors)
                continue
            path = Path(name)
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from None
            yield from _records_from_bytes(name, data, as_jsonl=path.suffix.lower() == ".jsonl", errors=errors, stem=path.stem)
        except InputError as exc:
            errors.append(str(exc))


def _records_from_bytes(name: str, data: bytes, as_jsonl: bool, errors: list[str], stem: str = "stdin") -> Iterator[tuple[str, str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not valid UTF-8 (byte {exc.start})") from None
    if not as_jsonl:
        if not text.strip():
            raise InputError(f"{name}: empty text")
        yield stem, text
        return
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{name}:{lineno}: not JSON ({exc.msg})")
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            errors.append(f"{name}:{lineno}: expected an object with a string 'text'")
            continue
        if not obj["text"].strip():
            errors.append(f"{name}:{lineno}: empty text")
            continue
        yield str(obj.get("id", f"{stem}-{lineno}")), obj["text"]


class Progress:
    """A progress bar on a terminal, a line every 10% otherwise (for long runs)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last = -1

    def __call__(self, done: int, total: int) -> None:
        if total < 2:
            return
        pct = int(100 * done / total)
        if self.tty:
            bar = "#" * (pct // 4)
            self.stream.write(f"\r[{bar:<25}] {done}/{total}")
            if done == total:
                self.stream.write("\n")
            self.stream.flush()
        elif total >= 20 and pct // 10 != self.last // 10:
            self.stream.write(f"structured {done}/{total} records\n")
            self.stream.flush()
        self.last = pct


def cmd_structure(args: argparse.Namespace, stdout: TextIO, stderr: TextIO, stdin: TextIO) -> int:
    from tcm_desktop.artifacts import ModelError
    from tcm_desktop.text.clinic_dictionary import ClinicDictionary
    from tcm_desktop.text.engine import StructuringEngine

    errors: list[str] = []
    records = list(read_inputs(args.inputs, stdin, errors))
    for msg in errors:
        stderr.write(f"error: {msg}\n")
    if not records:
        return EXIT_INPUT_ERROR
    try:
        dictionary = ClinicDictionary.load(Path(args.dictionary)) if args.dictionary else None
        engine = StructuringEngine(args.model, dictionary=dictionary)
    except (ModelError, ValueError) as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_MODEL_ERROR
    results = list(engine.structure_many(records, progress=Progress(stderr)))
    if args.image:
        tongue = _tongue_results([args.image], None, args.tongue_model, stderr)
        if tongue is None:
            return EXIT_MODEL_ERROR
        from tcm_desktop.tongue.wording import with_record

        for r in results:
            r.tongue = with_record(tongue[0], r.entities)
    if args.format == "jsonl":
        for r in results:
            stdout.write(json.dumps(_public(r), ensure_ascii=False) + "\n")
    elif args.format == "json":
        stdout.write(json.dumps([_public(r) for r in results], ensure_ascii=False, indent=1) + "\n")
    else:
        from tcm_desktop.records.exports import to_csv

        stdout.write(to_csv(results))
    if args.db:
        from tcm_desktop.records.database import Database

        try:
            db = Database(args.db)
            try:
                for r in results:
                    db.save_record(r, user=args.user)
            finally:
                db.close()
        except _db_failures() as exc:
            stderr.write(f"error: {exc}\n")
            return EXIT_DB_ERROR
    if args.pdf:
        from tcm_desktop.records.report_pdf import write_report

        target = Path(args.pdf)
        if len(results) == 1:
            write_report(target, results[0], clinic=args.clinic, doctor=args.doctor)
        else:
            target.mkdir(parents=True, exist_ok=True)
            for r in results:
                write_report(target / f"{r.id}.pdf", r, clinic=args.clinic, doctor=args.doctor)
    return EXIT_INPUT_ERROR if errors else EXIT_OK


def _tongue_results(images: list[str], masks: str | None, model: str | None, stderr: TextIO) -> list[dict] | None:
    from tcm_desktop.tongue.engine import analyse_images

    try:
        return analyse_images(images, masks_dir=masks, model_dir=model)
    except Exception as exc:  # a missing or corrupt tongue model: say which, no traceback
        stderr.write(f"error: tongue model: {exc}\n")
        return None


def cmd_tongue(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    results = _tongue_results(args.images, args.masks, args.model, stderr)
    if results is None:
        return EXIT_MODEL_ERROR
    for r in results:
        stdout.write(json.dumps({k: r.get(k) for k in ("id", "ok", "message", "attributes")}, ensure_ascii=False) + "\n")
        if not r.get("ok"):
            stderr.write(f"{r.get('id')}: {r.get('message')}\n")
    return EXIT_OK if all(r.get("ok") for r in results) else EXIT_INPUT_ERROR


def _db_failures() -> tuple[type[BaseException], ...]:
    """Every exception that means "the database cannot be used": exit 3 with one line."""
    from tcm_desktop.records import encryption
    from tcm_desktop.records.database import StorageError

    return (encryption.PassphraseError, encryption.ConversionError, StorageError, OSError,
            *encryption.database_errors())


def cmd_db_convert(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``db encrypt`` / ``db decrypt``: convert the file in place, passphrase from TCM_DB_PASSPHRASE."""
    from tcm_desktop.records import encryption
    from tcm_desktop.records.database import default_db_path

    path = Path(args.db) if args.db else default_db_path()
    passphrase = encryption.env_passphrase()
    if not passphrase:
        stderr.write(f"error: set {encryption.PASSPHRASE_ENV} to the database passphrase\n")
        return EXIT_DB_ERROR
    try:
        if args.db_command == "encrypt":
            backup = encryption.encrypt_database(path, passphrase, keep_backup=args.keep_backup)
        else:
            backup = encryption.decrypt_database(path, passphrase, keep_backup=not args.no_backup)
    except _db_failures() as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_DB_ERROR
    stdout.write(f"{path}: {args.db_command}ed" + (f" (previous file kept as {backup})" if backup else "") + "\n")
    return EXIT_OK


def cmd_db_export(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``db export``: every record's current version, optionally de-identified."""
    from tcm_desktop.records.database import Database, default_db_path

    path = Path(args.db) if args.db else default_db_path()
    if not path.is_file():
        stderr.write(f"error: no database at {path}\n")
        return EXIT_DB_ERROR
    try:
        db = Database(path)
        try:
            rows = [(h, db.load_record(h.record_id)) for h in reversed(db.history(limit=10**9))]
        finally:
            db.close()
    except _db_failures() as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_DB_ERROR
    out = open(args.out, "w", encoding="utf-8-sig" if args.format == "csv" else "utf-8", newline="") \
        if args.out else stdout
    try:
        if args.format == "csv":
            from tcm_desktop.records.exports import to_csv

            records = [rec for _, rec in rows]
            if args.deidentify:
                from tcm_desktop.records.deidentify import Deidentifier

                de = Deidentifier(shift_dates=args.shift_dates)
                records = [de.record(rec, h.patient_name, str(h.patient_id or ""))[0] for h, rec in rows]
            out.write(to_csv(records))
            return EXIT_OK
        dicts = [{**rec.to_dict(), "title": h.title, "patient_id": h.patient_id, "patient_name": h.patient_name,
                  "created": h.created, "updated": h.updated, "version": h.version} for h, rec in rows]
        if args.deidentify:
            from tcm_desktop.records.deidentify import Deidentifier

            de = Deidentifier(shift_dates=args.shift_dates)
            dicts = [de.export_dict(d) for d in dicts]
        if args.format == "json":
            out.write(json.dumps(dicts, ensure_ascii=False, indent=1) + "\n")
        else:
            out.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in dicts)
        return EXIT_OK
    finally:
        if out is not stdout:
            out.close()


def _public(r) -> dict:
    """The CLI's JSON contract for one record."""
    d = r.to_dict()
    return {
        "id": d["id"],
        "entities": [{k: e[k] for k in ("start", "end", "label", "text", "assertion", "score", "normalized")} for e in d["entities"]],
        "sections": d["sections"],
        "prescription": d["prescription"],
        "model_version": d["model_version"],
        **({"tongue": d["tongue"]} if "tongue" in d else {}),
    }


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="tcm-desktop", description="TCM Structurer: structure TCM clinical records offline.")
    ap.add_argument("--self-test", action="store_true", help="load the models, analyse a sample record headless, exit")
    sub = ap.add_subparsers(dest="command")
    s = sub.add_parser("structure", help="structure records into JSON lines, JSON or CSV")
    s.add_argument("inputs", nargs="+", metavar="INPUT", help=".txt file, .jsonl file with {id,text} lines, or - for stdin")
    s.add_argument("--format", choices=("jsonl", "json", "csv"), default="jsonl")
    s.add_argument("--db", help="also save the records to this SQLite database")
    s.add_argument("--pdf", help="also write a PDF report (a folder when there are several records)")
    s.add_argument("--model", help="model directory (default: the shipped models/ner)")
    s.add_argument("--dictionary", help="a clinic dictionary JSON to apply (lexicon terms + exact-match rule)")
    s.add_argument("--clinic", default="", help="clinic name for the PDF report")
    s.add_argument("--doctor", default="", help="doctor name for the PDF report")
    s.add_argument("--user", default="", help="user name recorded in the database")
    s.add_argument("--image", help="a tongue photo to analyse and add to the record(s)")
    s.add_argument("--tongue-model", help="tongue model directory (default: the shipped models/tongue)")
    t = sub.add_parser("tongue", help="analyse tongue photos: one JSON line per image")
    t.add_argument("images", nargs="+", metavar="IMAGE")
    t.add_argument("--masks", help="write <stem>.png masks (0/255, the input's size) into this folder")
    t.add_argument("--model", help="tongue model directory (default: the shipped models/tongue)")
    _add_db_parser(sub)
    a = sub.add_parser("adapt", help="fine-tune the text model on this clinic's reviewed records (needs the train extra)")
    a.add_argument("--db", help="the record database (default: the app's database)")
    a.add_argument("--out", help="the new model's folder (default: <user data>/models/<version>)")
    a.add_argument("--base", help="model folder or training run to start from (default: the shipped models/ner)")
    a.add_argument("--minutes", type=float, default=10.0, help="fine-tuning time budget (default 10)")
    a.add_argument("--max-steps", type=int, default=0, help="also stop after this many steps")
    a.add_argument("--lr", type=float, default=3e-4)
    a.add_argument("--replay-ratio", type=float, default=2.0, help="team replay characters per clinic character (default 2; more forgets less)")
    a.add_argument("--threads", type=int, default=0)
    a.add_argument("--seed", type=int, default=13)
    return ap


TRAIN_EXTRA_HINT = "adapting the model needs the train extra: pip install 'tcm-desktop[train]'"


def cmd_adapt(args: argparse.Namespace, stderr: TextIO) -> int:
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        stderr.write(f"error: {TRAIN_EXTRA_HINT}\n")
        return EXIT_INPUT_ERROR
    from tcm_desktop.training.adapt import run_cli

    for name in ("out", "base"):
        if getattr(args, name):
            setattr(args, name, Path(getattr(args, name)))
    return run_cli(args, stderr)


def _add_db_parser(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("db", help="the record database: encrypt, decrypt, export (passphrase: TCM_DB_PASSPHRASE)")
    dsub = d.add_subparsers(dest="db_command", required=True)
    enc = dsub.add_parser("encrypt", help="encrypt a plain database in place (SQLCipher)")
    enc.add_argument("--keep-backup", action="store_true", help="keep the plain original (it is NOT encrypted)")
    dec = dsub.add_parser("decrypt", help="turn an encrypted database back into a plain one")
    dec.add_argument("--no-backup", action="store_true", help="do not keep the encrypted original")
    exp = dsub.add_parser("export", help="export every record's current version")
    exp.add_argument("--format", choices=("jsonl", "json", "csv"), default="jsonl")
    exp.add_argument("--out", help="output file (default: standard output)")
    exp.add_argument("--deidentify", action="store_true",
                     help="replace names, phones, ID/hospital/insurance numbers, addresses, e-mails by placeholders")
    exp.add_argument("--shift-dates", action="store_true", help="with --deidentify: shift dates by a per-patient offset")
    for p in (enc, dec, exp):
        p.add_argument("--db", help="database file (default: the app's database)")


def main(argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None, stdin: TextIO | None = None) -> int:
    stdout, stderr, stdin = stdout or sys.stdout, stderr or sys.stderr, stdin or sys.stdin
    args = build_parser().parse_args(argv)
    if args.command == "structure":
        return cmd_structure(args, stdout, stderr, stdin)
    if args.command == "tongue":
        return cmd_tongue(args, stdout, stderr)
    if args.command == "adapt":
        return cmd_adapt(args, stderr)
    if args.command == "db":
        if args.db_command == "export":
            return cmd_db_export(args, stdout, stderr)
        return cmd_db_convert(args, stdout, stderr)
    from tcm_desktop.ui.app import main as gui_main
    from tcm_desktop.ui.app import self_test

    if args.self_test:
        return self_test()
    return gui_main(argv or [])


if __name__ == "__main__":
    sys.exit(main())
