"""``tcm-desktop archive`` on a local Ray (2 CPUs): same output as ``structure`` for JSONL and Parquet inputs,
resumable, a crashed worker's task retried, bad records kept aside.

One Ray session serves the whole module (Ray takes seconds to start) and is
shut down at its end. The shipped model (``models/ner``) does the structuring.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tcm_desktop.cli import main as cli_main
from tcm_desktop.scale import archive
from tcm_desktop.scale.synthetic import synthetic_records, write_jsonl_files, write_parquet_files

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ray_session():
    import ray

    started = archive.connect("local", 2)
    yield ray.get_runtime_context().gcs_address
    if started:
        ray.shutdown()


def _cli(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = cli_main(args, stdout=out, stderr=err)
    return rc, out.getvalue(), err.getvalue()


def _shard_lines(out: Path, inp: Path) -> list[str]:
    (key,) = [k for k, v in json.loads((out / "manifest.json").read_text())["inputs"].items() if v["path"] == str(inp.resolve())]
    return _jsonl_lines((out / "records" / f"{key}.jsonl").read_text(encoding="utf-8"))


def _jsonl_lines(text: str) -> list[str]:
    """JSONL lines: split at "\n" only (str.splitlines would also cut at a U+2028 inside a JSON string)."""
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")


def _all_ids(out: Path) -> list[str]:
    ids: list[str] = []
    for shard in sorted((out / "records").iterdir()):
        if shard.suffix == ".jsonl":
            ids += [json.loads(x)["id"] for x in _jsonl_lines(shard.read_text(encoding="utf-8"))]
        else:
            ids += pq.read_table(shard).column("id").to_pylist()
    return ids


@pytest.mark.slow
def test_200_records_equal_structure_output(ray_session, tmp_path) -> None:
    inputs = write_jsonl_files(tmp_path / "in", 200, files=2, seed=1)  # records 0-99 and 100-199
    # The same 200 records as one Parquet file of 8 row groups, cut into 2 tasks of 100 rows (4 row groups each).
    (parquet,) = write_parquet_files(tmp_path / "pq", 200, files=1, seed=1, row_group_rows=25)
    assert pq.ParquetFile(parquet).metadata.num_row_groups == 8
    summary = archive.run_archive([str(tmp_path / "in"), str(parquet)], tmp_path / "out", workers=2, rows_per_task=100)
    assert (summary.records, summary.errors, summary.inputs, summary.skipped) == (400, 0, 3, 0)
    expected: list[str] = []
    for inp in inputs:
        rc, out, err = _cli(["structure", str(inp)])
        assert rc == 0, err
        got = _shard_lines(tmp_path / "out", inp)
        assert got == _jsonl_lines(out)  # byte for byte: entities, scores, sections, prescription, model_version
        expected += got
    first = json.loads(got[0])
    assert first["model_version"] == archive.engine_version(None) and first["entities"]
    # Each Parquet task equals ``structure`` on the same rows as JSONL: so the shard equals the two JSONL shards.
    assert _shard_lines(tmp_path / "out", parquet) == expected


@pytest.mark.parametrize("kind", ["jsonl", "parquet"])
def test_interrupted_job_completes_on_rerun_without_duplicates(ray_session, tmp_path, kind) -> None:
    """JSONL input to Parquet shards, and Parquet input (2 tasks per file) to Parquet shards."""
    if kind == "jsonl":
        write_jsonl_files(tmp_path / "in", 60, files=3, seed=2)
    else:
        write_parquet_files(tmp_path / "in", 60, files=3, seed=2, row_group_rows=5)
    out = tmp_path / "out"

    def stop_after_first(inp, entry) -> None:
        raise KeyboardInterrupt  # as if the operator pressed Ctrl-C after one input

    with pytest.raises(KeyboardInterrupt):
        archive.run_archive([str(tmp_path / "in")], out, fmt="parquet", workers=2, on_input_done=stop_after_first,
                            rows_per_task=10)
    manifest = json.loads((out / "manifest.json").read_text())["inputs"]
    assert len(manifest) == 1  # only the first input is complete
    assert not list(out.rglob("*.part"))
    done_shard = next((out / "records").iterdir())
    mtime = done_shard.stat().st_mtime_ns

    summary = archive.run_archive([str(tmp_path / "in")], out, fmt="parquet", workers=2, rows_per_task=10)
    assert (summary.inputs, summary.skipped, summary.records) == (3, 1, 40)
    ids = _all_ids(out)
    assert sorted(ids) == [f"syn-{i:07d}" for i in range(60)]  # every record once
    assert done_shard.stat().st_mtime_ns == mtime  # the complete shard was not redone
    table = pq.read_table(done_shard)
    assert table.schema.names == ["id", "model_version", "record"]
    assert json.loads(table.column("record")[0].as_py())["id"] == table.column("id")[0].as_py()

    again = archive.run_archive([str(tmp_path / "in")], out, fmt="parquet", workers=2)
    assert (again.skipped, again.records) == (3, 0)


@pytest.mark.slow
def test_killed_driver_then_rerun_completes(ray_session, tmp_path) -> None:
    """SIGKILL of the driver process (no clean-up at all) part-way through, then a rerun."""
    write_jsonl_files(tmp_path / "in", 80, files=4, seed=3)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tcm_desktop", "archive", "--input", str(tmp_path / "in"), "--output", str(out),
         "--ray", ray_session, "--workers", "1"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
    )
    try:
        deadline = time.monotonic() + 240
        for line in proc.stderr:  # wait for the first finished input
            if line.startswith("archive: done") or time.monotonic() > deadline:
                break
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    first = json.loads((out / "manifest.json").read_text())["inputs"]
    assert 1 <= len(first) < 4
    summary = archive.run_archive([str(tmp_path / "in")], out, workers=2)
    assert summary.skipped == len(first) and summary.errors == 0
    assert sorted(_all_ids(out)) == [f"syn-{i:07d}" for i in range(80)]


@pytest.mark.slow
def test_a_task_whose_worker_dies_is_retried(ray_session, tmp_path, monkeypatch) -> None:
    """A worker process dies in the middle of a task, after handing on part of its rows; the job still completes."""
    write_parquet_files(tmp_path / "in", 40, files=2, seed=6, row_group_rows=10)
    marker = tmp_path / "crashed"
    monkeypatch.setenv(archive.CRASH_ONCE_ENV, str(marker))
    # Tasks of 10 rows handed on 4 rows at a time: the first worker to hand on 4 rows kills itself.
    summary = archive.run_archive([str(tmp_path / "in")], tmp_path / "out", workers=2, rows_per_task=10, output_rows=4)
    assert marker.exists()  # a worker did die
    assert (summary.records, summary.errors, summary.inputs) == (40, 0, 2)
    ids = _all_ids(tmp_path / "out")
    assert ids == [f"syn-{i:07d}" for i in range(40)]  # every record exactly once, in input order
    assert not list((tmp_path / "out").rglob("*.part"))


def test_bad_records_go_to_the_errors_file(ray_session, tmp_path) -> None:
    good = list(synthetic_records(2, seed=4))
    cap = max(len(g["text"]) for g in good)
    lines = [
        json.dumps(good[0], ensure_ascii=False),
        json.dumps({"id": "empty", "text": "  "}),
        "",  # a blank line is skipped, as ``structure`` does
        json.dumps({"id": "number", "text": 42}),
        "{not json",
        json.dumps({"id": "long", "text": "头" * (cap + 1)}, ensure_ascii=False),
        json.dumps({"text": good[1]["text"]}, ensure_ascii=False),  # no id: file stem and line, as ``structure``
        json.dumps({"id": "sep", "text": "头痛\u2028三天。"}, ensure_ascii=False),  # one line, not two
    ]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "mixed.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # Parquet without an id column (ids default to file stem and row): a null, an empty and a good text.
    pq.write_table(pa.table({"text": [None, "", good[1]["text"]]}), tmp_path / "in" / "rows.parquet")
    summary = archive.run_archive([str(tmp_path / "in")], tmp_path / "out", workers=2, max_chars=cap)
    assert (summary.records, summary.errors) == (4, 6)
    errors = [json.loads(x) for f in sorted((tmp_path / "out" / "errors").iterdir()) for x in f.read_text().splitlines()]
    reasons = {(e["id"], e["line"]): e["reason"] for e in errors}
    assert reasons[("empty", 2)] == "empty text"
    assert reasons[("number", 4)] == "expected an object with a string 'text'"
    assert reasons[(None, 5)].startswith("not JSON")
    assert f"{cap + 1} characters is over the cap of {cap}" in reasons[("long", 6)]
    assert reasons[(None, 1)] == "expected an object with a string 'text'"  # the Parquet rows: line = row
    assert reasons[(None, 2)] == "empty text"
    assert sorted(_all_ids(tmp_path / "out")) == ["mixed-7", "rows-3", "sep", good[0]["id"]]


def test_cli_summary_and_exit_status(ray_session, tmp_path) -> None:
    write_jsonl_files(tmp_path / "in", 6, files=1, seed=5)
    rc, out, err = _cli(["archive", "--input", str(tmp_path / "in"), "--output", str(tmp_path / "out"), "--workers", "2"])
    assert rc == 0, err
    assert json.loads(out)["records"] == 6
    assert "6 records, 0 errors" in err and "records/s" in err
    rc, _, err = _cli(["archive", "--input", str(tmp_path / "missing"), "--output", str(tmp_path / "out")])
    assert rc == 1 and err.strip() == f"error: {tmp_path / 'missing'}: no such file or folder"
    pq.write_table(pa.table({"id": ["p1"], "body": ["头痛。"]}), tmp_path / "t.parquet")
    rc, _, err = _cli(["archive", "--input", str(tmp_path / "t.parquet"), "--output", str(tmp_path / "out")])
    assert rc == 1 and err.strip() == f"error: {tmp_path / 't.parquet'}: no 'text' column (expected columns id and text)"
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    rc, _, err = _cli(["archive", "--input", str(tmp_path / "bad.parquet"), "--output", str(tmp_path / "out")])
    assert rc == 1 and err.startswith(f"error: {tmp_path / 'bad.parquet'}: not a readable Parquet file") and err.count("\n") == 1
    rc, _, err = _cli(["archive", "--input", str(tmp_path / "in"), "--output", str(tmp_path / "o2"), "--workers", "5"])
    assert rc == 1 and "5 workers asked for, but the Ray cluster has 2 CPUs" in err
    rc, _, err = _cli(["archive", "--input", str(tmp_path / "in"), "--output", str(tmp_path / "o3"), "--model", str(tmp_path)])
    assert rc == 2 and err.startswith("error: ") and len(err.strip().splitlines()) == 1


def test_parquet_files_are_cut_between_row_groups(tmp_path) -> None:
    f = tmp_path / "a.parquet"
    pq.write_table(pa.table({"id": [str(i) for i in range(55)], "text": ["头痛。"] * 55}), f, row_group_size=5)
    big = tmp_path / "b.parquet"
    pq.write_table(pa.table({"text": ["头痛。"] * 30}), big, row_group_size=30)
    (tmp_path / "c.jsonl").write_text("", encoding="utf-8")
    inputs = archive.find_inputs([str(tmp_path)])
    assert [(i.kind, i.row_groups) for i in inputs] == [("parquet", (5,) * 11), ("parquet", (30,)), ("jsonl", ())]
    tasks = archive.plan_tasks(inputs, rows_per_task=20)
    assert [(t["input"], t["first"], t["stop"], t["rows"]) for t in tasks] == [
        (0, 0, 4, 20), (0, 4, 8, 20), (0, 8, 11, 15),  # whole row groups, at most 20 rows
        (1, 0, 1, 30),  # a row group is never split
        (2, 0, 0, -1),  # a JSONL file is one task; the driver does not count its lines
    ]
    assert [t["task"] for t in tasks] == list(range(5))


def test_a_new_model_version_redoes_the_input(tmp_path) -> None:
    f = tmp_path / "a.jsonl"
    f.write_text('{"id": "x", "text": "头痛。"}\n', encoding="utf-8")
    (inp,) = archive.find_inputs([str(f)])
    m = archive.Manifest(tmp_path)
    shard = archive.shard_path(tmp_path, inp, "jsonl")
    shard.parent.mkdir()
    shard.write_text("{}\n")
    m.set(inp.key, {**inp.fingerprint(), "model_version": "v1", "format": "jsonl", "records": 1, "errors": 0})
    again = archive.Manifest(tmp_path)  # read back from disk
    assert again.is_done(inp, "v1", "jsonl", shard)
    assert not again.is_done(inp, "v2", "jsonl", shard)  # a better model ships: structure again
    assert not again.is_done(inp, "v1", "parquet", shard)
    f.write_text('{"id": "x", "text": "头痛三天。"}\n', encoding="utf-8")  # the input changed
    assert not again.is_done(archive.find_inputs([str(f)])[0], "v1", "jsonl", shard)


def test_without_the_scale_extra_the_command_says_how_to_install() -> None:
    code = "import sys; sys.modules['ray'] = None; from tcm_desktop.cli import main; sys.exit(main(['archive', '--input', 'x', '--output', 'y']))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert res.returncode == 1
    assert res.stderr.strip() == "error: the archive command needs the scale extra: pip install 'tcm-desktop[scale]'"
