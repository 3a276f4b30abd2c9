"""What encryption at rest costs: opening, saving and searching a plain vs a SQLCipher database.

Synthetic records (the spec's sample record with a varying tail) so it runs
anywhere without data; one process, median of ``--repeat`` runs.

    python benchmarks/bench_encryption.py [--records 300] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from desktop_samples import sample_record  # noqa: E402

from tcm_desktop.records import encryption  # noqa: E402
from tcm_desktop.records.database import Database  # noqa: E402


def run(passphrase: str | None, n: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        Database(path, passphrase=passphrase).close()
        encryption.forget_passphrases()
        t0 = time.perf_counter()
        db = Database(path, passphrase=passphrase)
        t_open = time.perf_counter() - t0
        base = sample_record("x")
        t0 = time.perf_counter()
        for i in range(n):
            rec = sample_record(f"r{i}")
            rec.text = base.text + f"\n复诊{i}：胃脘胀痛减轻{i % 7}分。"
            db.save_record(rec)
        t_save = (time.perf_counter() - t0) / n
        t0 = time.perf_counter()
        for q in ("柴胡疏肝", "胃脘胀", "复诊1", "头痛"):
            db.history(q)
        t_search = (time.perf_counter() - t0) / 4
        db.close()
        encryption.forget_passphrases()
    return {"open_ms": t_open * 1000, "save_ms": t_save * 1000, "search_ms": t_search * 1000}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    print(f"| database | open (ms) | save one record (ms) | history search (ms, {args.records} records) |")
    print("|---|---|---|---|")
    for name, key in (("plain", None), ("SQLCipher", "benchmark passphrase")):
        runs = [run(key, args.records) for _ in range(args.repeat)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        print(f"| {name} | {med['open_ms']:.1f} | {med['save_ms']:.2f} | {med['search_ms']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
