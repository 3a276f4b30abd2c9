"""Command line: ``tcm-desktop`` (the GUI) and the headless jobs.

    tcm-desktop                      start the desktop application
    tcm-desktop structure [--format jsonl|json|csv] [--db PATH] [--pdf PATH] INPUT...
    tcm-desktop structure --ocr [--no-correct] IMAGE_OR_PDF...
    tcm-desktop tongue [--masks DIR] IMAGE...
    tcm-desktop db list|search|check|backup|restore|export|reanalyse|encrypt|decrypt ...   (see records/cli_commands.py)
    tcm-desktop import [--db PATH] [--reviewed] FILE.jsonl...
    tcm-desktop rules [--db PATH] [--kind K] [--min-count N] [--min-confidence X] [--reviewed-only] [--format jsonl|csv]
    tcm-desktop archive --input PATH... --output DIR [--format jsonl|parquet] [--ray local|ADDRESS] [--workers N]
    tcm-desktop --self-test          load the models, analyse a sample record, exit 0/1

``structure`` reads ``.txt`` files (id = file stem), ``.jsonl`` files with
``{"id", "text"}`` per line, or ``-`` for standard input. A bad input gets a
message naming it on standard error and a non-zero exit status at the end;
the other inputs are still processed. With several records, ``--pdf PATH``
is a folder that receives ``<id>.pdf`` per record. With ``--ocr`` every input
is a page photo, scan or PDF (one record per file, id = file stem), read
offline; the lexicon corrections are applied and listed under ``"ocr"``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from tcm_desktop.records import inputs
from tcm_desktop.records.cli_commands import db_failures, guarded
from tcm_desktop.records.inputs import InputRecord
from tcm_desktop.structured import StructuredRecord

EXIT_OK, EXIT_INPUT_ERROR, EXIT_MODEL_ERROR, EXIT_DB_ERROR = 0, 1, 2, 3


def read_inputs(paths: list[str], stdin: TextIO, errors: list[str]) -> Iterator[InputRecord]:
    """Records from every input (the shared reader of :mod:`tcm_desktop.records.inputs`)."""
    data = None
    if "-" in paths:
        data = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode("utf-8")
    yield from inputs.read_inputs(paths, data, errors)


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
    ocr_info: dict[str, dict] = {}
    pages: dict[str, list] | None = {} if args.db else None  # the page images are stored with each record
    if args.ocr:
        ocr_items = _ocr_inputs(args.inputs, not args.no_correct, args.model, errors, ocr_info, pages)
        for rid, info in ocr_info.items():
            if not info["readable"]:  # a warning, not a failure: the text is still output for review
                stderr.write(f"warning: {rid}: the recognition confidence is too low to be useful "
                             "(handwriting or a poor photo?); check the text\n")
        if ocr_items is None:
            for msg in errors:
                stderr.write(f"error: {msg}\n")
            return EXIT_MODEL_ERROR
        items = ocr_items
    else:
        items = list(read_inputs(args.inputs, stdin, errors))
    for msg in errors:
        stderr.write(f"error: {msg}\n")
    if not items:
        return EXIT_INPUT_ERROR
    if args.db and Path(args.db).exists():  # a damaged --db is named before minutes of structuring
        from tcm_desktop.records.backup import check_file

        problems = check_file(args.db, empty_ok=True)
        if problems:
            stderr.write(f"error: database {args.db} is damaged ({problems[0]})\n")
            return EXIT_DB_ERROR
    try:
        dictionary = ClinicDictionary.load(Path(args.dictionary)) if args.dictionary else None
        engine = StructuringEngine(args.model, dictionary=dictionary)
    except (ModelError, ValueError) as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_MODEL_ERROR
    tongue = None
    photo = None
    if args.image:
        tongue = _tongue_results([args.image], None, args.tongue_model, stderr)
        if tongue is None:
            return EXIT_MODEL_ERROR
        photo = _read_photo(args.image, stderr)
    return guarded(lambda: _stream_structured(args, engine, items, ocr_info, tongue[0] if tongue else None, photo,
                                              errors, stdout, stderr, pages or {}),
                   stderr, lambda exc: f"{exc.filename or args.pdf}: cannot write ({exc.strerror or exc})",
                   EXIT_INPUT_ERROR)


def _stream_structured(args: argparse.Namespace, engine, items: list[InputRecord], ocr_info: dict[str, dict],  # noqa: ANN001
                       tongue: dict | None, photo: bytes | None, errors: list[str], stdout: TextIO,
                       stderr: TextIO, pages: dict[str, list]) -> int:
    """Structure ``items`` and hand each record on as it comes: its JSON line, its save (with identity,
    patient, photo and the pages it was read from, keyed by source, as the GUI saves it) and its PDF, so
    memory does not grow with the number of records; only the JSON-array and CSV outputs keep them all to the end."""
    from tcm_desktop.records.database import PhotoInput
    from tcm_desktop.records.exports import path_in_folder
    from tcm_desktop.records.service import RecordService
    from tcm_desktop.tongue.wording import with_record

    db = _open_db(args.db) if args.db else None
    service = RecordService(db) if db is not None else None
    pdf_dir = Path(args.pdf) if args.pdf and len(items) > 1 else None
    if pdf_dir is not None:
        pdf_dir.mkdir(parents=True, exist_ok=True)
    used: set[str] = set()
    kept: list[tuple[dict, StructuredRecord]] = []
    try:
        for inp, r in zip(items, engine.structure_many(inputs.pairs(items), progress=Progress(stderr))):
            if tongue is not None:
                r.tongue = with_record(tongue, r.entities)
            row = {**_public(r), **({"ocr": ocr_info[r.id]} if r.id in ocr_info else {})}
            if args.format == "jsonl":
                stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                kept.append((row, r))
            if service is not None:
                shot = PhotoInput(photo, r.tongue, str((r.tongue or {}).get("model_version", ""))) if photo else None
                service.store_import(inp, r, user=args.user, photo=shot, pages=pages.pop(inp.source, ()))
            if args.pdf:
                from tcm_desktop.records.report_pdf import write_report

                target = path_in_folder(pdf_dir, r.id, ".pdf", used) if pdf_dir else Path(args.pdf)
                write_report(target, r, clinic=args.clinic, doctor=args.doctor)
    finally:
        if db is not None:
            db.close()
    if args.format == "json":
        stdout.write(json.dumps([row for row, _ in kept], ensure_ascii=False, indent=1) + "\n")
    elif args.format == "csv":
        from tcm_desktop.records.exports import to_csv

        stdout.write(to_csv([r for _, r in kept]))
    return EXIT_INPUT_ERROR if errors else EXIT_OK


def _read_photo(image: str, stderr: TextIO) -> bytes | None:
    try:
        return Path(image).read_bytes()
    except OSError as exc:
        stderr.write(f"error: {image}: cannot read ({exc.strerror or exc})\n")
        return None


def _open_db(path: str | None):  # noqa: ANN202 - a Database (imported lazily)
    from tcm_desktop.records.backup import rotate_backups
    from tcm_desktop.records.database import Database, default_db_path

    db = Database(path or default_db_path())
    rotate_backups(db.path)
    return db


def _ocr_inputs(paths: list[str], correct: bool, model: str | None, errors: list[str],
                info: dict[str, dict], pages: dict[str, list] | None = None) -> list[InputRecord] | None:
    """Read page photos/PDFs into records (id = file stem, source = the file); fill ``info[id]`` with the
    OCR summary and corrections and, when ``pages`` is given, ``pages[source]`` with the pages to store."""
    from tcm_desktop.artifacts import ModelError
    from tcm_desktop.ocr.correction import Corrector, apply
    from tcm_desktop.ocr.reader import OcrError, read_document
    from tcm_desktop.ocr.storage import encode_pages

    corrector = None
    records = []
    for name in paths:
        try:
            doc = read_document(name)
        except OcrError as exc:
            errors.append(str(exc).rstrip("."))
            continue
        if corrector is None and correct:
            try:
                corrector = Corrector.from_model(model)
            except (OSError, ValueError, KeyError, ModelError) as exc:
                errors.append(f"lexicon of the model cannot be read ({exc})")
                return None
        corrections = corrector.propose(doc.text, doc.confidences()) if corrector else []
        rid = Path(name).stem
        summary = doc.summary()
        info[rid] = {**summary, "corrections": [c.to_dict() for c in corrections]}
        source = str(Path(name).resolve())
        if pages is not None:
            pages[source] = encode_pages(doc)
        records.append(InputRecord(rid, apply(doc.text, corrections), source, where=name))
    return records


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


def cmd_rules(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Association rules mined from the clinic's database: one JSON line (or CSV row) per rule."""
    import csv
    import sqlite3

    from tcm_desktop.insights.rules import mine_rules
    from tcm_desktop.insights.source import load_transactions
    from tcm_desktop.records.database import default_db_path

    if args.min_count < 1 or not 0.0 <= args.min_confidence <= 1.0 or args.max_antecedent < 1:
        stderr.write("error: --min-count and --max-antecedent must be at least 1, --min-confidence between 0 and 1\n")
        return EXIT_INPUT_ERROR
    path = Path(args.db) if args.db else default_db_path()
    if not path.is_file():
        stderr.write(f"error: no database at {path}\n")
        return EXIT_DB_ERROR
    try:
        transactions = load_transactions(path, reviewed_only=args.reviewed_only)
    except (*db_failures(), sqlite3.Error) as exc:
        stderr.write(f"error: cannot read the database {path}: {exc}\n")
        return EXIT_DB_ERROR
    rules = mine_rules(transactions, [args.kind] if args.kind else None, args.min_count, args.min_confidence,
                       args.max_antecedent)
    rows = [r.to_json() for r in rules]
    try:
        if args.format == "jsonl":
            for row in rows:
                stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            fields = ["kind", "antecedent", "consequent", "count", "support", "confidence", "lift", "conviction"]
            w = csv.DictWriter(stdout, fieldnames=fields, lineterminator="\n")
            w.writeheader()
            for row in rows:
                w.writerow({**row, "antecedent": "、".join(row["antecedent"]), "consequent": "、".join(row["consequent"])})
        stdout.flush()
    except BrokenPipeError:  # `tcm-desktop rules | head`: the reader has what it wanted
        if stdout is sys.stdout:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    stderr.write(f"{len(rules)} rules from {len(transactions)} records\n")
    return EXIT_OK
def cmd_archive(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Structure an archive on Ray (``tcm_desktop.scale``, the optional ``scale`` extra; imported only here)."""
    try:
        from tcm_desktop.scale import archive
    except ImportError:
        stderr.write("error: the archive command needs the scale extra: pip install 'tcm-desktop[scale]'\n")
        return EXIT_INPUT_ERROR
    return archive.main(args, stdout, stderr)


def _public(r) -> dict:
    """The CLI's JSON contract for one record."""
    from tcm_desktop.records.service import public_record

    return public_record(r)


def add_records_commands(sub: argparse._SubParsersAction) -> None:
    from tcm_desktop.records.cli_commands import add_parsers

    add_parsers(sub)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="tcm-desktop", description="TCM Structurer: structure TCM clinical records offline.")
    ap.add_argument("--self-test", action="store_true", help="load the models, analyse a sample record headless, exit")
    sub = ap.add_subparsers(dest="command")
    s = sub.add_parser("structure", help="structure records into JSON lines, JSON or CSV")
    s.add_argument("inputs", nargs="+", metavar="INPUT",
                   help=".txt file, .jsonl file with {id,text,patient?} lines, or - for stdin")
    s.add_argument("--format", choices=("jsonl", "json", "csv"), default="jsonl")
    s.add_argument("--db", help="also save the records to this SQLite database")
    s.add_argument("--pdf", help="also write a PDF report (a folder when there are several records)")
    s.add_argument("--model", help="model directory (default: the shipped models/ner)")
    s.add_argument("--dictionary", help="a clinic dictionary JSON to apply (lexicon terms + exact-match rule)")
    s.add_argument("--clinic", default="", help="clinic name for the PDF report")
    s.add_argument("--doctor", default="", help="doctor name for the PDF report")
    s.add_argument("--user", default="", help="user name recorded in the database")
    s.add_argument("--image", help="a tongue photo to analyse and add to the record(s)")
    s.add_argument("--ocr", action="store_true", help="inputs are page photos, scans or PDFs: read them offline first")
    s.add_argument("--no-correct", action="store_true", help="with --ocr: list nothing and keep the OCR text as read")
    s.add_argument("--tongue-model", help="tongue model directory (default: the shipped models/tongue)")
    t = sub.add_parser("tongue", help="analyse tongue photos: one JSON line per image")
    t.add_argument("images", nargs="+", metavar="IMAGE")
    t.add_argument("--masks", help="write <stem>.png masks (0/255, the input's size) into this folder")
    t.add_argument("--model", help="tongue model directory (default: the shipped models/tongue)")
    add_records_commands(sub)
    r = sub.add_parser("rules", help="association rules mined from the clinic's records (statistics, not advice)")
    r.add_argument("--db", help="SQLite database (default: the app's database)")
    from tcm_desktop.insights.transactions import KINDS

    r.add_argument("--kind", choices=tuple(KINDS),
                   help="only this kind of rule (default: all kinds)")
    r.add_argument("--min-count", type=int, default=2, help="records holding both sides (default 2)")
    r.add_argument("--min-confidence", type=float, default=0.0, help="0..1 (default 0)")
    r.add_argument("--max-antecedent", type=int, default=1, help="items on the left-hand side (default 1)")
    r.add_argument("--reviewed-only", action="store_true", help="only records whose every entity was reviewed")
    r.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    a = sub.add_parser("archive", help="structure an archive of records on a Ray cluster (needs the scale extra)")
    a.add_argument("--input", nargs="+", required=True, metavar="PATH", help=".jsonl files or .parquet files (columns id, text), or folders of them")
    a.add_argument("--output", required=True, metavar="DIR", help="output folder: records/, errors/, manifest.json (a rerun resumes)")
    a.add_argument("--format", choices=("jsonl", "parquet"), default="jsonl", help="shard format")
    a.add_argument("--ray", default="local", metavar="local|ADDRESS", help="start a local Ray, or the address of a cluster's head")
    a.add_argument("--workers", type=int, help="actors, one per core (default: every CPU of the Ray cluster)")
    a.add_argument("--model", help="model directory, the same path on every node (default: the shipped models/ner)")
    a.add_argument("--max-chars", type=int, default=50_000, help="longer records go to the errors file")
    a.add_argument("--rows-per-task", type=int, default=2_000, metavar="N",
                   help="Parquet: whole row groups up to N rows per task (default 2000; a JSONL file is one task)")
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


def main(argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None, stdin: TextIO | None = None) -> int:
    stdout, stderr, stdin = stdout or sys.stdout, stderr or sys.stderr, stdin or sys.stdin
    args = build_parser().parse_args(argv)
    if args.command == "structure":
        return cmd_structure(args, stdout, stderr, stdin)
    if args.command == "tongue":
        return cmd_tongue(args, stdout, stderr)
    if args.command in ("db", "import"):
        from tcm_desktop.records.cli_commands import run_records_command

        return run_records_command(args, stdout, stderr, stdin)
    if args.command == "rules":
        return cmd_rules(args, stdout, stderr)
    if args.command == "archive":
        return cmd_archive(args, stdout, stderr)
    if args.command == "adapt":
        return cmd_adapt(args, stderr)
    from tcm_desktop.ui.app import main as gui_main
    from tcm_desktop.ui.app import self_test

    if args.self_test:
        return self_test()
    return gui_main(argv or [])


if __name__ == "__main__":
    sys.exit(main())
