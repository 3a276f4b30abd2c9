"""Re-structure an archive of records with Ray Data, resumably, one output shard per input file.

    tcm-desktop archive --input PATH... --output DIR [--format jsonl|parquet] [--ray local|ADDRESS] [--workers N]
                        [--rows-per-task N]

The inputs are JSONL files (one ``{"id", "text"}`` per line) and Parquet
files (columns ``text`` and, optionally, ``id``). The driver cuts them into
*tasks* (a whole JSONL file; a run of whole Parquet row groups of at most
``rows_per_task`` rows, planned from the Parquet footers alone) and hands the
task descriptions, a few bytes each, to Ray Data (``from_items``). A
class-based ``map_batches`` actor, :class:`Structurer` (the engine loaded once
per worker, single-threaded onnxruntime, one actor per core), reads its task's
rows itself from the shared storage and structures them in one engine call.

Why the actors read, not a Ray Data read operator: on a 2-CPU local Ray,
``read_parquet`` stalled next to the actor pool ("backpressured:
ResourceBudget"); a read done in the actor needs no CPU, no object-store
budget and no scheduling of its own, and it still runs on every node, next
to the compute, so the driver never reads the records (docs/scale.md).

Why one engine call per task: the INT8 model quantizes activations per
batch, so a record's scores (and, rarely, its spans) depend on the records
batched with it. A JSONL task is a whole file, exactly as
``tcm-desktop structure FILE`` reads it, so its shard equals that command's
output byte for byte; a Parquet task equals ``structure`` on the task's rows.
Tasks depend on the files only, so a shard is the same whatever the number of
workers, retries or reruns.

The output folder::

    records/<key>.jsonl|parquet   one shard per input file, records in input order
    errors/<key>.jsonl            records the engine rejected: source, line (Parquet: row), id, reason
    manifest.json                 completed inputs: size, mtime, model version, format, counts

Why it resumes: the driver keeps Ray's output in task order and each task
ends with a row that gives its row count, so the driver knows when an input
file is finished and that no row was lost or repeated; it writes the shard
under a ``.part`` name, renames it, and then records the input in the
manifest. A rerun skips inputs whose manifest entry matches the file (size,
mtime), the model version and the format, and redoes the others from
scratch, so an interrupted job completes without duplicates and a new model
re-structures everything. A task whose worker dies is retried on a restarted
actor (:data:`MAX_TASK_RETRIES`). The driver writes the shards (a few KB per
record, far below what one process can write); the structuring, the
expensive part, runs on the actors.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
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
SUFFIXES = {".jsonl": "jsonl", ".parquet": "parquet"}
ROWS_PER_TASK = 2_000  # Parquet: whole row groups up to this many rows per task (a JSONL task is its file)
OUTPUT_ROWS = 500  # an actor hands its results on in tables of this many rows: blocks of a few MB
MAX_TASK_RETRIES = 3  # a task whose worker dies is retried this often, then the job stops (a record that kills every worker)
CRASH_ONCE_ENV = "TCM_ARCHIVE_TEST_CRASH_ONCE"  # tests only: a marker file; the first task to create it kills its worker
RESULT_SCHEMA = pa.schema([("task", pa.int64()), ("status", pa.string()), ("id", pa.string()), ("payload", pa.string())])
SHARD_SCHEMA = pa.schema([("id", pa.string()), ("model_version", pa.string()), ("record", pa.string())])


class ArchiveError(Exception):
    """A bad input, output folder or Ray address; the message is one sentence for the user."""


@dataclass(frozen=True)
class ArchiveInput:
    """One input file: the unit of resumability."""

    path: Path
    kind: str  # "jsonl" or "parquet"
    size: int
    mtime_ns: int
    row_groups: tuple[int, ...] = ()  # Parquet: the rows of each row group, from the footer

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


def _parquet_row_groups(path: Path) -> tuple[int, ...]:
    """Rows per row group, from the footer only; a file without a string ``text`` column is refused here."""
    try:
        pf = pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise ArchiveError(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})") from None
    with pf:
        schema = pf.schema_arrow
        if "text" not in schema.names:
            raise ArchiveError(f"{path}: no 'text' column (expected columns id and text)")
        if not (pa.types.is_string(schema.field("text").type) or pa.types.is_large_string(schema.field("text").type)):
            raise ArchiveError(f"{path}: the 'text' column holds {schema.field('text').type}, expected strings")
        meta = pf.metadata
        return tuple(meta.row_group(g).num_rows for g in range(meta.num_row_groups))


def find_inputs(paths: Iterable[str]) -> list[ArchiveInput]:
    """The input files (folders expand to their ``*.jsonl`` and ``*.parquet``); Parquet footers are read."""
    files: list[Path] = []
    for name in paths:
        p = Path(name).resolve()
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.suffix.lower() in SUFFIXES and f.is_file())
            if not found:
                raise ArchiveError(f"{name}: no .jsonl or .parquet files in this folder")
            files.extend(found)
        elif p.is_file():
            if p.suffix.lower() not in SUFFIXES:
                raise ArchiveError(f"{name}: expected a .jsonl or .parquet file")
            files.append(p)
        else:
            raise ArchiveError(f"{name}: no such file or folder")
    out: list[ArchiveInput] = []
    for f in dict.fromkeys(files):  # each file once, in order
        kind = SUFFIXES[f.suffix.lower()]
        try:
            st = f.stat()
        except OSError as exc:
            raise ArchiveError(f"{f}: cannot read ({exc.strerror or exc})") from None
        groups = _parquet_row_groups(f) if kind == "parquet" else ()
        out.append(ArchiveInput(f, kind, st.st_size, st.st_mtime_ns, groups))
    return out


def plan_tasks(inputs: list[ArchiveInput], rows_per_task: int = ROWS_PER_TASK) -> list[dict[str, Any]]:
    """Ray Data's items: one per task, in input order; every input has at least one.

    A JSONL file is one task (its lines are not counted: the driver never reads
    the records). A Parquet file is cut between row groups into tasks of at most
    ``rows_per_task`` rows; a bigger row group is a task of its own (write the
    archive with row groups of a few thousand rows to spread a big file over
    many workers).
    """
    tasks: list[dict[str, Any]] = []

    def add(n: int, inp: ArchiveInput, first: int, stop: int, rows: int) -> None:
        tasks.append({"task": len(tasks), "input": n, "path": str(inp.path), "kind": inp.kind,
                      "first": first, "stop": stop, "rows": rows})

    for n, inp in enumerate(inputs):
        if inp.kind == "jsonl":
            add(n, inp, 0, 0, -1)  # -1: not known before the task reads the file
            continue
        first, rows = 0, 0
        for g, size in enumerate(inp.row_groups):
            if g > first and rows + size > rows_per_task:
                add(n, inp, first, g, rows)
                first, rows = g, 0
            rows += size
        add(n, inp, first, len(inp.row_groups), rows)
    return tasks


# ---------------------------------------------------------------- the actor


class Structurer:
    """The ``map_batches`` actor: one engine per worker, loaded once, single-threaded onnxruntime.

    Takes task descriptions (:func:`plan_tasks`), reads each task's rows from
    the inputs and yields one result row per input row: ``status`` ``ok``
    (payload: the record's JSON), ``error`` (payload: the reason) or ``skip``
    (a blank JSONL line, as ``structure`` skips it), then one ``end`` row
    (payload: the task's row count). Parsing happens here, so that one bad
    line is one error row rather than a failed task.
    """

    def __init__(self, model_dir: str | None, max_chars: int, output_rows: int = OUTPUT_ROWS,
                 crash_marker: str | None = None) -> None:
        from tcm_desktop.text.engine import StructuringEngine

        self.engine = StructuringEngine(model_dir, threads=1)
        self.max_chars = max_chars
        self.output_rows = output_rows
        self.crash_marker = crash_marker

    def __call__(self, batch: dict[str, np.ndarray]) -> Iterator[pa.Table]:
        for k in range(len(batch["input"])):
            yield from self._task(int(batch["task"][k]), str(batch["path"][k]), str(batch["kind"][k]),
                                  int(batch["first"][k]), int(batch["stop"][k]))

    def _task(self, task: int, path: str, kind: str, first: int, stop: int) -> Iterator[pa.Table]:
        from tcm_desktop.records.service import public_record as _public

        rows = list(_jsonl_rows(path) if kind == "jsonl" else _parquet_rows(path, first, stop))
        checked = [self._check(rid, text) for rid, text in rows]
        results = self._structure([(rid or "", value) for status, rid, value in checked if status == "ok"])
        buf: list[tuple[str, str | None, str]] = []
        for status, rid, value in checked:
            if status == "ok":
                result = next(results)
                if isinstance(result, str):
                    status, value = "error", result
                else:
                    value = json.dumps(_public(result), ensure_ascii=False)
            buf.append((status, rid, value))
            if len(buf) >= self.output_rows:
                yield _result_table(task, buf)
                self._crash_once()
                buf = []
        buf.append(("end", None, str(len(rows))))
        yield _result_table(task, buf)
        self._crash_once()  # (a task shorter than output_rows: after all its rows, before it returns)

    def _check(self, rid: str | None, text: Any) -> tuple[str, str | None, str]:
        """``(status, id, text or reason)`` of one row; ``text`` is a :class:`_Reason` when the line could not be read."""
        if isinstance(text, _Reason):
            return ("skip", rid, "") if text.reason == "" else ("error", rid, text.reason)
        if not isinstance(text, str):
            return "error", rid, "expected an object with a string 'text'"
        if not text.strip():
            return "error", rid, "empty text"
        if len(text) > self.max_chars:
            return "error", rid, f"text of {len(text)} characters is over the cap of {self.max_chars} (--max-chars)"
        return "ok", rid, text

    def _structure(self, items: list[tuple[str, str]]) -> Iterator[Any]:
        """Structured records in order; a record the engine rejects becomes its reason (the others still go through)."""
        done = 0
        try:
            for rec in self.engine.structure_many(items):
                done += 1
                yield rec
        except Exception:  # one bad record must not cost its task: redo the rest one by one to name it
            for rid, text in items[done:]:
                try:
                    yield self.engine.structure(text, rid)
                except Exception as exc:
                    yield f"engine: {exc}"

    def _crash_once(self) -> None:
        """Fault injection for the retry test: the first task to create the marker kills its worker process."""
        if not self.crash_marker:
            return
        try:
            os.close(os.open(self.crash_marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
        os._exit(70)  # as a killed or lost node: no clean-up, no exception for Ray to report


@dataclass(frozen=True)
class _Reason:
    """A row that never reached JSON: a blank line (reason ``""``: skipped) or why it could not be read."""

    reason: str


def _jsonl_rows(path: str) -> Iterator[tuple[str | None, Any]]:
    """``(id, text)`` per line, split and decoded as ``tcm-desktop structure`` does (``\\n`` only, UTF-8, BOM)."""
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    if lines[-1] == b"":  # after the last newline
        lines.pop()
    for n, raw in enumerate(lines):
        try:
            line = raw.decode("utf-8-sig" if n == 0 else "utf-8").removesuffix("\r")
        except UnicodeDecodeError as exc:
            yield None, _Reason(f"not valid UTF-8 (byte {exc.start})")
            continue
        if not line.strip():
            yield None, _Reason("")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield None, _Reason(f"not JSON ({exc.msg})")
            continue
        rid = str(obj["id"]) if isinstance(obj, dict) and "id" in obj else None
        yield rid, obj.get("text") if isinstance(obj, dict) else None


def _parquet_rows(path: str, first: int, stop: int) -> Iterator[tuple[str | None, Any]]:
    """``(id, text)`` of row groups ``first..stop-1``, decoded one row group at a time."""
    with pq.ParquetFile(path) as pf:
        columns = [c for c in ("id", "text") if c in pf.schema_arrow.names]
        for g in range(first, stop):
            table = pf.read_row_group(g, columns=columns)
            texts = table.column("text").to_pylist()
            ids = table.column("id").to_pylist() if "id" in columns else [None] * len(texts)
            for rid, text in zip(ids, texts):
                yield (None if rid is None else str(rid)), text


def _result_table(task: int, rows: list[tuple[str, str | None, str]]) -> pa.Table:
    status, ids, payload = zip(*rows)
    return pa.table({"task": [task] * len(rows), "status": status, "id": ids, "payload": payload}, schema=RESULT_SCHEMA)

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
    rows_per_task: int = ROWS_PER_TASK,
    output_rows: int = OUTPUT_ROWS,
) -> Summary:
    """Structure every input not yet complete in ``output``; Ray must be initialised (see :func:`connect`)."""
    if fmt not in ("jsonl", "parquet"):
        raise ArchiveError(f"unknown output format {fmt!r} (jsonl or parquet)")
    if rows_per_task < 1 or output_rows < 1:
        raise ArchiveError("--rows-per-task must be at least 1")
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
    tasks = plan_tasks(pending, rows_per_task)
    state = {"rows": 0, "tasks": 0, "next_log": time.perf_counter() + progress_every_s}

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

    def tick(rows: int, finished: int) -> None:
        state["rows"] += rows
        state["tasks"] += finished
        now = time.perf_counter()
        if log and now >= state["next_log"]:
            rate = state["rows"] / (now - start)
            log.write(f"archive: {state['tasks']}/{len(tasks)} tasks, {state['rows']} rows, {rate:.1f} rows/s, "
                      f"{summary.records} records in finished inputs\n")
            log.flush()
            state["next_log"] = now + progress_every_s

    if pending:
        crash_marker = os.environ.get(CRASH_ONCE_ENV) or None
        _run_pipeline(pending, tasks, root, fmt, workers, {"model_dir": model_dir, "max_chars": max_chars,
                                                           "output_rows": output_rows, "crash_marker": crash_marker}, done, tick)
    summary.seconds = time.perf_counter() - start
    return summary


def _run_pipeline(group: list[ArchiveInput], tasks: list[dict[str, Any]], root: Path, fmt: str, workers: int,
                  actor_kwargs: dict[str, Any], done: Callable[[ArchiveInput, int, int], None],
                  tick: Callable[[int, int], None]) -> None:
    """One Ray Data pipeline over the pending inputs; shards are committed in input order as they finish."""
    ctx = rd.DataContext.get_current()
    ctx.execution_options.preserve_order = True  # the driver tells where an input ends, and writes records in input order
    ctx.enable_progress_bars = False  # our own progress lines: readable in a log as well as on a terminal
    ctx.actor_task_retry_on_errors = [OSError]  # a shared file system's hiccup while a task reads: retry the task
    # The items are task descriptions of a few bytes: no read operator, nothing for Ray Data to budget but the actors.
    with warnings.catch_warnings():
        # Ray 2.60 takes max_restarts / max_task_retries only as ``ray_remote_args``, which it marks deprecated.
        warnings.filterwarnings("ignore", message=".*ray_remote_args.* is deprecated")
        ds = rd.from_items(tasks, override_num_blocks=len(tasks)).map_batches(
            Structurer,
            fn_constructor_kwargs=actor_kwargs,
            batch_size=1,  # one task per call: the engine sees the task's records as ``structure`` sees a file
            batch_format="numpy",
            compute=rd.ActorPoolStrategy(size=workers),
            num_cpus=1,  # one actor per core
            # A dead worker (killed, out of memory, node lost) is restarted as often as it takes, and its task is
            # retried MAX_TASK_RETRIES times; then the job stops rather than kill workers forever on one task.
            max_restarts=-1,
            max_task_retries=MAX_TASK_RETRIES,
        )
    cur = 0  # the task whose rows come next
    writer: ShardWriter | None = None
    seen = 0  # rows of the current task so far
    batches = iter(ds.iter_batches(batch_size=None, batch_format="pyarrow"))
    try:
        for batch in batches:
            cols = batch.to_pydict()
            for t, status, rid, payload in zip(cols["task"], cols["status"], cols["id"], cols["payload"]):
                if t != cur:
                    raise ArchiveError(f"Ray returned rows of task {t} while task {cur} was not finished")
                task = tasks[cur]
                inp = group[task["input"]]
                writer = writer or ShardWriter(root, inp, fmt)
                if status != "end":
                    writer.add(status, rid, payload)
                    seen += 1
                    continue
                if int(payload) != seen or task["rows"] not in (-1, seen):  # a row lost or repeated on the way
                    raise ArchiveError(f"{inp.path}: task {cur} gave {seen} rows, but its input has "
                                       f"{task['rows'] if task['rows'] >= 0 else payload} (was the file changed during the job?)")
                tick(seen, 1)
                seen, cur = 0, cur + 1
                if cur == len(tasks) or tasks[cur]["input"] != task["input"]:
                    done(inp, *writer.commit())
                    writer = None
        if cur != len(tasks):
            raise ArchiveError(f"Ray returned {cur} of {len(tasks)} tasks")
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
                              max_chars=args.max_chars, log=stderr, rows_per_task=args.rows_per_task)
    except ArchiveError as exc:
        stderr.write(f"error: {exc}\n")
        return 1
    except ModelError as exc:
        stderr.write(f"error: {exc}\n")
        return 2
    except ray.exceptions.RayError as exc:  # retries exhausted, a node lost for good: rerun to resume
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        stderr.write(f"error: the Ray job failed ({first}); the finished inputs are kept, rerun the command to resume\n")
        return 1
    finally:
        if started:
            ray.shutdown()
    stdout.write(json.dumps(asdict(summary) | {"records_per_s": round(summary.records_per_s, 2)}) + "\n")
    stderr.write(summary.line() + "\n")
    if summary.errors:
        stderr.write(f"archive: {summary.errors} records could not be structured, see {Path(args.output) / 'errors'}\n")
    return 1 if summary.errors else 0
