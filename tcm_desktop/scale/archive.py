"""Re-structure an archive of records with Ray Data, resumably, one output shard per input file.

    tcm-desktop archive --input PATH... --output DIR [--format jsonl|parquet] [--ray local|ADDRESS] [--workers N]

Ray Data reads the inputs (JSONL files, one ``{"id", "text"}`` per line), one
block per input file, and runs
:class:`Structurer` (a class-based ``map_batches`` actor that loads the
engine once, single-threaded onnxruntime, one actor per core) over each
block as one batch. An input file is thus the unit of parallelism, retry and
resume: split an archive into many files of a few thousand records.

Why a whole file per engine call: the INT8 model quantizes activations per
batch, so a record's scores (and, rarely, its spans) depend on the records
batched with it. Giving the engine a file's records exactly as
``tcm-desktop structure FILE`` does makes each shard equal, byte for byte, to
that command's output, whatever the number of workers, retries or reruns.

The output folder::

    records/<key>.jsonl|parquet   one shard per input file, records in input order
    errors/<key>.jsonl            records the engine rejected: source, line, id, reason
    manifest.json                 completed inputs: size, mtime, model version, format, counts

Why it resumes: the driver keeps Ray's output in input order, so it knows
when an input file is finished; it writes the shard under a ``.part`` name,
renames it, and then records the input in the manifest. A rerun skips inputs
whose manifest entry matches the file (size, mtime), the model version and
the format, and redoes the others from scratch, so an interrupted job
completes without duplicates and a new model re-structures everything.
The driver writes the shards (a few KB per record, far below what one
process can write); the structuring, the expensive part, runs on the actors.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import ray
import ray.data as rd

MAX_CHARS = 50_000  # a clinical record is a few thousand characters; a longer "record" is a broken export
OBJECT_STORE_BYTES = 512 * 1024**2  # for a local Ray: blocks are a few MB, keep the RAM for the workers
MANIFEST_VERSION = 1
SUFFIXES = {".jsonl": "jsonl"}
# Parquet input is not offered: on Ray 2.60 with a 2-CPU local Ray, read_parquet stalled
# ("backpressured: ResourceBudget") next to the actor pool; see docs/scale.md.
RESULT_SCHEMA = pa.schema([("path", pa.string()), ("status", pa.string()), ("id", pa.string()), ("payload", pa.string())])
SHARD_SCHEMA = pa.schema([("id", pa.string()), ("model_version", pa.string()), ("record", pa.string())])


class ArchiveError(Exception):
    """A bad input, output folder or Ray address; the message is one sentence for the user."""


@dataclass(frozen=True)
class ArchiveInput:
    """One input file: the unit of resumability."""

    path: Path
    rows: int  # JSONL lines, blank ones included
    size: int
    mtime_ns: int

    @property
    def key(self) -> str:
        """A shard name unique per input path (two ``part-1.jsonl`` in different folders do not collide)."""
        return f"{self.path.stem}-{hashlib.sha1(str(self.path).encode('utf-8')).hexdigest()[:10]}"

    def fingerprint(self) -> dict[str, Any]:
        return {"path": str(self.path), "size": self.size, "mtime_ns": self.mtime_ns}


@dataclass
class Summary:
    inputs: int = 0
    skipped: int = 0
    records: int = 0
    errors: int = 0
    seconds: float = 0.0

    @property
    def records_per_s(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        return (f"archive: {self.records} records, {self.errors} errors, {self.inputs - self.skipped} of {self.inputs} inputs run "
                f"({self.skipped} already complete), {self.seconds:.1f} s, {self.records_per_s:.1f} records/s")


# --------------------------------------------------------------------- inputs


def _count_lines(path: Path) -> int:
    """Lines as Ray's ``read_text`` yields them (a last line without a newline counts)."""
    n, last = 0, b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def find_inputs(paths: Iterable[str]) -> list[ArchiveInput]:
    """The input files (folders expand to their ``*.jsonl``), with line counts."""
    files: list[Path] = []
    for name in paths:
        p = Path(name).resolve()
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in SUFFIXES and f.is_file())
            if not found:
                raise ArchiveError(f"{name}: no .jsonl files in this folder")
            files.extend(found)
        elif p.is_file():
            if p.suffix.lower() == ".parquet":
                raise ArchiveError(f"{name}: Parquet input is not supported yet; export the records as JSONL")
            if p.suffix.lower() not in SUFFIXES:
                raise ArchiveError(f"{name}: expected a .jsonl file")
            files.append(p)
        else:
            raise ArchiveError(f"{name}: no such file or folder")
    out: list[ArchiveInput] = []
    for f in dict.fromkeys(files):  # each file once, in order
        try:
            st = f.stat()
            rows = _count_lines(f)
        except OSError as exc:
            raise ArchiveError(f"{f}: cannot read ({exc.strerror or exc})") from None
        out.append(ArchiveInput(f, rows, st.st_size, st.st_mtime_ns))
    return out


# ---------------------------------------------------------------- the actor


class Structurer:
    """The ``map_batches`` actor: one engine per worker, loaded once, single-threaded onnxruntime.

    Takes raw JSONL lines and returns one result row each: ``status`` ``ok`` (payload: the record's JSON), ``error``
    (payload: the reason) or ``skip`` (a blank JSONL line, as ``structure``
    skips it). Parsing happens here, not in Ray's JSON reader, so that one bad
    line is one error row rather than a failed file.
    """

    def __init__(self, model_dir: str | None, max_chars: int) -> None:
        from tcm_desktop.text.engine import StructuringEngine

        self.engine = StructuringEngine(model_dir, threads=1)
        self.max_chars = max_chars

    def _parse(self, batch: dict[str, np.ndarray], i: int) -> tuple[str, str | None, str]:
        """``(status, id, text or reason)`` for row ``i``; ``id`` None when the record has none."""
        line = batch["text"][i]
        if not line.strip():
            return "skip", None, ""
        try:
            obj = json.loads(line.lstrip("\ufeff"))
        except json.JSONDecodeError as exc:
            return "error", None, f"not JSON ({exc.msg})"
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            return "error", _id_of(obj), "expected an object with a string 'text'"
        rid, text = _id_of(obj), obj["text"]
        if not text.strip():
            return "error", rid, "empty text"
        if len(text) > self.max_chars:
            return "error", rid, f"text of {len(text)} characters is over the cap of {self.max_chars} (--max-chars)"
        return "ok", rid, text

    def __call__(self, batch: dict[str, np.ndarray]) -> pa.Table:
        from tcm_desktop.records.service import public_record as _public

        n = len(batch["path"])
        status: list[str] = []
        ids: list[str | None] = []
        payload: list[str] = []
        todo: list[int] = []
        for i in range(n):
            st, rid, value = self._parse(batch, i)
            status.append(st)
            ids.append(rid)
            payload.append(value)
            if st == "ok":
                todo.append(i)
        for i, result in zip(todo, self._structure([(ids[i] or "", payload[i]) for i in todo])):
            if isinstance(result, str):
                status[i], payload[i] = "error", result
            else:
                payload[i] = json.dumps(_public(result), ensure_ascii=False)
        return pa.table({"path": [str(p) for p in batch["path"]], "status": status, "id": ids, "payload": payload},
                        schema=RESULT_SCHEMA)

    def _structure(self, items: list[tuple[str, str]]) -> list[Any]:
        """Structured records; a record the engine rejects becomes its reason (the others still go through)."""
        try:
            return list(self.engine.structure_many(items))
        except Exception:  # one bad record must not cost its batch: redo one by one to name it
            out: list[Any] = []
            for rid, text in items:
                try:
                    out.append(self.engine.structure(text, rid))
                except Exception as exc:
                    out.append(f"engine: {exc}")
            return out


def _id_of(obj: Any) -> str | None:
    return str(obj["id"]) if isinstance(obj, dict) and "id" in obj else None


# ------------------------------------------------------------------- output


class Manifest:
    """``manifest.json``: what is complete. Rewritten atomically after each input."""

    def __init__(self, root: Path) -> None:
        self.path = root / "manifest.json"
        self.inputs: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self.inputs = dict(data["inputs"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise ArchiveError(f"{self.path}: unreadable manifest ({exc}); remove it to start over") from None

    def is_done(self, inp: ArchiveInput, version: str, fmt: str, shard: Path) -> bool:
        entry = self.inputs.get(inp.key)
        want = {**inp.fingerprint(), "model_version": version, "format": fmt}
        return entry is not None and all(entry.get(k) == v for k, v in want.items()) and shard.exists()

    def set(self, key: str, entry: dict[str, Any] | None) -> None:
        if entry is None:
            self.inputs.pop(key, None)
        else:
            self.inputs[key] = entry
        tmp = self.path.with_suffix(".json.part")
        tmp.write_text(json.dumps({"version": MANIFEST_VERSION, "inputs": self.inputs}, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)


class ShardWriter:
    """One input's shard and errors, written under ``.part`` names and renamed when complete."""

    def __init__(self, root: Path, inp: ArchiveInput, fmt: str) -> None:
        self.inp, self.fmt = inp, fmt
        self.shard = shard_path(root, inp, fmt)
        self.errors_path = root / "errors" / f"{inp.key}.jsonl"
        self.tmp_shard = self.shard.with_name(self.shard.name + ".part")
        self.tmp_errors = self.errors_path.with_name(self.errors_path.name + ".part")
        self.errors_file = open(self.tmp_errors, "w", encoding="utf-8")
        self.rows: list[tuple[str, str, str]] = []
        self.lines = 0
        self.records = 0
        self.errors = 0
        self.version = ""
        if fmt == "jsonl":
            self.out: Any = open(self.tmp_shard, "w", encoding="utf-8")
        else:
            self.out = pq.ParquetWriter(self.tmp_shard, SHARD_SCHEMA)

    def add(self, status: str, rid: str | None, payload: str) -> None:
        self.lines += 1
        if status == "skip":
            return
        if status == "error":
            self.errors += 1
            entry = {"source": str(self.inp.path), "line": self.lines, "id": rid, "reason": payload}
            self.errors_file.write(json.dumps(entry, ensure_ascii=False) + "\n")
            return
        self.records += 1
        if rid is None:  # no id in the input: the same default as ``structure`` (file stem and line)
            rec = json.loads(payload)
            rec["id"] = f"{self.inp.path.stem}-{self.lines}"
            payload = json.dumps(rec, ensure_ascii=False)
        if self.fmt == "jsonl":
            self.out.write(payload + "\n")
        else:
            rec = json.loads(payload)
            self.rows.append((rec["id"], rec["model_version"], payload))
            if len(self.rows) >= 1000:
                self._flush()

    def _flush(self) -> None:
        if self.rows:
            ids, versions, records = zip(*self.rows)
            self.out.write_table(pa.table({"id": ids, "model_version": versions, "record": records}, schema=SHARD_SCHEMA))
            self.rows = []

    def commit(self) -> tuple[int, int]:
        if self.lines != self.inp.rows:
            self.abort()
            raise ArchiveError(f"{self.inp.path}: read {self.lines} of {self.inp.rows} rows (was the file changed during the job?)")
        self._flush()
        self.out.close()
        self.errors_file.close()
        os.replace(self.tmp_errors, self.errors_path)
        os.replace(self.tmp_shard, self.shard)
        return self.records, self.errors

    def abort(self) -> None:
        for f in (self.out, self.errors_file):
            try:
                f.close()
            except Exception:  # closing a half-written file on the way out; the .part is removed next
                pass
        self.tmp_shard.unlink(missing_ok=True)
        self.tmp_errors.unlink(missing_ok=True)


def shard_path(root: Path, inp: ArchiveInput, fmt: str) -> Path:
    return root / "records" / f"{inp.key}.{fmt}"


# ------------------------------------------------------------------ the job


def engine_version(model_dir: str | None) -> str:
    """Load the model once in the driver: a bad model fails here, before Ray starts any worker."""
    from tcm_desktop.text.engine import StructuringEngine

    return StructuringEngine(model_dir, threads=1).version


def run_archive(
    inputs: Iterable[str],
    output: str | Path,
    fmt: str = "jsonl",
    workers: int | None = None,
    model_dir: str | None = None,
    max_chars: int = MAX_CHARS,
    on_input_done: Callable[[ArchiveInput, dict[str, Any]], None] | None = None,
    log: TextIO | None = None,
    progress_every_s: float = 10.0,
) -> Summary:
    """Structure every input not yet complete in ``output``; Ray must be initialised (see :func:`connect`)."""
    if fmt not in ("jsonl", "parquet"):
        raise ArchiveError(f"unknown output format {fmt!r} (jsonl or parquet)")
    start = time.perf_counter()
    found = find_inputs(inputs)
    version = engine_version(model_dir)
    root = Path(output)
    try:
        for sub in ("records", "errors"):
            (root / sub).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ArchiveError(f"{root}: cannot create the output folder ({exc.strerror or exc})") from None
    manifest = Manifest(root)
    pending = [i for i in found if not manifest.is_done(i, version, fmt, shard_path(root, i, fmt))]
    summary = Summary(inputs=len(found), skipped=len(found) - len(pending))
    for inp in pending:  # redo from scratch: an older shard (other model, changed file) must not survive
        manifest.set(inp.key, None)
        for stale in ("jsonl", "parquet"):
            shard_path(root, inp, stale).unlink(missing_ok=True)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    workers = workers or cpus
    if workers > cpus:
        raise ArchiveError(f"{workers} workers asked for, but the Ray cluster has {cpus} CPUs")
    total = sum(i.rows for i in pending)
    state = {"rows": 0, "next_log": time.perf_counter() + progress_every_s}

    def done(inp: ArchiveInput, records: int, errors: int) -> None:
        entry = {**inp.fingerprint(), "model_version": version, "format": fmt, "records": records, "errors": errors}
        manifest.set(inp.key, entry)
        summary.records += records
        summary.errors += errors
        if log:
            log.write(f"archive: done {inp.path.name} ({records} records, {errors} errors)\n")
            log.flush()
        if on_input_done:
            on_input_done(inp, entry)

    def tick() -> None:
        state["rows"] += 1
        now = time.perf_counter()
        if log and now >= state["next_log"]:
            rate = summary.records / (now - start)
            log.write(f"archive: {state['rows']}/{total} rows, {summary.records} records in finished inputs, {rate:.1f} records/s\n")
            log.flush()
            state["next_log"] = now + progress_every_s

    if pending:
        _run_pipeline(pending, root, fmt, workers, model_dir, max_chars, done, tick)
    summary.seconds = time.perf_counter() - start
    return summary


def _dataset(group: list[ArchiveInput], workers: int) -> rd.Dataset:
    paths = [str(i.path) for i in group]
    blocks = len(group)  # one read task and one block per file (Ray splits only blocks over its 128 MiB target)
    # Reading is cheap I/O: with no CPU reserved it cannot wait forever behind actors holding every core;
    # ``concurrency`` bounds what no CPU reservation bounds any more (else one reader process per file).
    return rd.read_text(paths, include_paths=True, drop_empty_lines=False, override_num_blocks=blocks, num_cpus=0,
                        concurrency=workers)


def _run_pipeline(group, root, fmt, workers, model_dir, max_chars, done, tick) -> None:
    """One Ray Data pipeline over the pending inputs; shards are committed in input order as they finish."""
    ctx = rd.DataContext.get_current()
    ctx.execution_options.preserve_order = True  # the driver tells where an input ends, and writes records in input order
    ctx.enable_progress_bars = False  # our own progress lines: readable in a log as well as on a terminal
    ds = _dataset(group, workers).map_batches(
        Structurer,
        fn_constructor_kwargs={"model_dir": model_dir, "max_chars": max_chars},
        batch_size=None,  # the whole block: the engine sees a file's records as ``structure`` does
        batch_format="numpy",
        compute=rd.ActorPoolStrategy(size=workers),
        num_cpus=1,  # one actor per core; Ray Data restarts a crashed actor and retries its block (its default)
    )
    index = {os.path.normpath(str(i.path)): n for n, i in enumerate(group)}
    cur = 0
    writer: ShardWriter | None = None
    batches = iter(ds.iter_batches(batch_size=None, batch_format="pyarrow"))
    try:
        for batch in batches:
            cols = batch.to_pydict()
            for path, status, rid, payload in zip(cols["path"], cols["status"], cols["id"], cols["payload"]):
                j = index.get(os.path.normpath("/" + path.lstrip("/")))
                if j is None or j < cur:
                    raise ArchiveError(f"Ray returned rows of an unexpected input: {path}")
                while cur < j:  # earlier inputs are finished (some may have had no rows at all)
                    writer = writer or ShardWriter(root, group[cur], fmt)
                    done(group[cur], *writer.commit())
                    writer, cur = None, cur + 1
                writer = writer or ShardWriter(root, group[cur], fmt)
                writer.add(status, rid, payload)
                tick()
        while cur < len(group):
            writer = writer or ShardWriter(root, group[cur], fmt)
            done(group[cur], *writer.commit())
            writer, cur = None, cur + 1
    except BaseException:
        if writer:
            writer.abort()
        raise
    finally:
        close = getattr(batches, "close", None)
        if close:
            close()
        # Ray Data releases a finished pipeline's actors when their handles are garbage-collected; the
        # handles sit in reference cycles, so collect now, or the next pipeline waits for their cores.
        del batches, ds
        gc.collect()


# -------------------------------------------------------------- Ray and CLI


def connect(address: str, workers: int | None) -> bool:
    """Start a local Ray (``local``) or join a cluster (``ray start --head`` prints its address).

    Returns True when this call started Ray, so the caller shuts it down.
    """
    if ray.is_initialized():
        return False
    try:
        if address == "local":
            ray.init(num_cpus=workers or os.cpu_count() or 1, include_dashboard=False,
                     object_store_memory=OBJECT_STORE_BYTES, logging_level=logging.WARNING)
        else:
            ray.init(address=address, logging_level=logging.WARNING)
        logging.getLogger("ray.data").setLevel(logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ArchiveError(f"cannot start or reach Ray at {address!r}: {str(exc).splitlines()[0] if str(exc) else exc}") from None
    return True


def main(args: Any, stdout: TextIO, stderr: TextIO) -> int:
    """The ``archive`` subcommand (its arguments come from ``tcm_desktop.cli``)."""
    from tcm_desktop.artifacts import ModelError

    started = False
    try:
        started = connect(args.ray, args.workers)
        summary = run_archive(args.input, args.output, fmt=args.format, workers=args.workers, model_dir=args.model,
                              max_chars=args.max_chars, log=stderr)
    except ArchiveError as exc:
        stderr.write(f"error: {exc}\n")
        return 1
    except ModelError as exc:
        stderr.write(f"error: {exc}\n")
        return 2
    finally:
        if started:
            ray.shutdown()
    stdout.write(json.dumps(asdict(summary) | {"records_per_s": round(summary.records_per_s, 2)}) + "\n")
    stderr.write(summary.line() + "\n")
    if summary.errors:
        stderr.write(f"archive: {summary.errors} records could not be structured, see {Path(args.output) / 'errors'}\n")
    return 1 if summary.errors else 0
