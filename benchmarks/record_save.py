"""Cost of a durable save (median ms per one-transaction save, synchronous=FULL vs NORMAL) and of the
integrity check made when the database is opened.

    python benchmarks/record_save.py [--n 200]

Why: the record store runs ``synchronous=FULL`` (a returned save survives a
power cut); this measures what that costs on the machine it runs on. The
records are synthetic (a 300-character text with 20 entities), written to a
temporary folder on the same disk as ``--dir`` (default: the system temp dir).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from tcm_desktop.records.database import Database
from tcm_desktop.structured import FoundEntity, StructuredRecord


def _record(i: int) -> StructuredRecord:
    text = (f"主诉：胃脘胀痛{i}天。" + "舌淡红，苔薄白，脉弦细。" * 25)[:300]
    ents = [FoundEntity(k * 12, k * 12 + 4, "SYMPTOM", text[k * 12 : k * 12 + 4]) for k in range(20)]
    return StructuredRecord("", text, ents)


def measure(sync: str, n: int, folder: Path) -> float:
    with Database(folder / f"{sync}.sqlite3") as db:
        db.conn.execute(f"PRAGMA synchronous={sync}")
        times = []
        for i in range(n):
            t0 = time.perf_counter()
            db.save_record(_record(i), patient_name="王小明")
            times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--dir", default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        for sync in ("FULL", "NORMAL"):
            print(f"synchronous={sync}: median {measure(sync, args.n, Path(tmp)):.2f} ms per save ({args.n} saves)")
        path = Path(tmp) / "FULL.sqlite3"
        t0 = time.perf_counter()
        Database(path).close()  # PRAGMA quick_check on open
        size = path.stat().st_size / 1e6
        print(f"open with quick_check: {1000 * (time.perf_counter() - t0):.1f} ms ({args.n} records, {size:.1f} MB)")


if __name__ == "__main__":
    main()
