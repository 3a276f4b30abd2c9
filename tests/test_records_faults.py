"""Fault injection: an import process killed with SIGKILL at random moments never corrupts or loses a saved record."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tcm_desktop.records.database import Database

ROOT = Path(__file__).resolve().parents[1]
N_RECORDS = 300
KILLS = 20


def _input(path: Path) -> None:
    lines = []
    for i in range(N_RECORDS):
        text = f"主诉：胃脘胀痛{i}天，无反酸。处方：柴胡10g。" + "舌淡红，苔薄白。" * (i % 7)
        lines.append(json.dumps({"id": f"r{i}", "text": text, "patient": f"患者{i % 13}",
                                 "entities": [{"start": 3, "end": 7, "label": "SYMPTOM"}]}, ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _import(db: Path, src: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tcm_desktop", "import", "--db", str(db), str(src)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.mark.slow
def test_sigkill_during_import_loses_nothing_reported_and_rerun_completes(tmp_path):
    rng = random.Random(10)
    src, db = tmp_path / "in.jsonl", tmp_path / "kill.sqlite3"
    _input(src)
    reported: set[str] = set()
    kills = mid_import = 0
    while kills < KILLS:
        p = _import(db, src)
        time.sleep(rng.uniform(0.2, 2.5))  # ~0.4 s start-up, then ~12 ms per fsynced save: kills land everywhere
        if p.poll() is not None:  # finished before the kill: start again from a fresh file
            p.communicate()
            db.unlink()
            for side in ("-wal", "-shm"):
                Path(str(db) + side).unlink(missing_ok=True)
            reported.clear()
            continue
        p.send_signal(signal.SIGKILL)
        out, _ = p.communicate()
        kills += 1
        before = len(reported)
        # a line is written after its transaction committed; a cut last line is not a report
        for line in out.decode("utf-8", "replace").splitlines():
            try:
                reported.add(json.loads(line)["external_id"])
            except (json.JSONDecodeError, KeyError):
                pass
        mid_import += len(reported) > before
        if not db.exists():
            continue
        check = subprocess.run([sys.executable, "-m", "tcm_desktop", "db", "check", "--db", str(db)],
                               capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
        assert check.returncode == 0, check.stderr.decode()
        with Database(db) as d:
            stored = {h.external_id for h in d.history(limit=None)}
        assert reported <= stored, sorted(reported - stored)[:5]
    assert mid_import >= KILLS // 4  # many kills landed while records were being saved
    p = _import(db, src)
    out, err = p.communicate(timeout=120)
    assert p.returncode == 0, err.decode()
    with Database(db) as d:
        rows = d.history(limit=None)
        assert sorted(h.external_id for h in rows) == sorted(f"r{i}" for i in range(N_RECORDS))  # each once
        assert d.check() == []
