"""Why ``tcm-desktop archive`` does not use Ray Data's ``read_parquet``: a reproduction.

    python benchmarks/ray_read_parquet_stall.py ACTORS [--object-store-mib 512] [--timeout 90]

On a local Ray with 2 CPUs, reads a 200-row Parquet file (8 row groups) with
``read_parquet`` and passes it through a pool of ACTORS trivial actors
(``num_cpus=1`` each), as the archive's pipeline would. Prints the time, or
that it did not finish within ``--timeout`` seconds. With Ray 2.60, Ray Data
fuses the Parquet read into the actors but plans a ``ListFiles`` task that
needs a CPU of its own: with 2 actors holding both CPUs it never runs.
Run it in a fresh process: it starts (and stops) its own local Ray.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from pathlib import Path


class Echo:
    def __call__(self, batch):  # noqa: ANN001, ANN204 - Ray Data's batch, returned as is
        return batch


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("actors", type=int)
    ap.add_argument("--object-store-mib", type=int, default=512)
    ap.add_argument("--timeout", type=float, default=90)
    args = ap.parse_args()
    import pyarrow as pa
    import pyarrow.parquet as pq
    import ray
    import ray.data as rd

    path = Path(tempfile.mkdtemp(prefix="read_parquet_stall_")) / "t.parquet"
    pq.write_table(pa.table({"id": [str(i) for i in range(200)], "text": ["头痛三天。"] * 200}), path, row_group_size=25)
    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=args.object_store_mib * 1024**2,
             logging_level=logging.WARNING)
    rd.DataContext.get_current().enable_progress_bars = False
    result: list[int] = []

    def run() -> None:
        ds = rd.read_parquet(str(path)).map_batches(Echo, batch_size=None, compute=rd.ActorPoolStrategy(size=args.actors),
                                                    num_cpus=1)
        result.append(sum(len(b["id"]) for b in ds.iter_batches(batch_size=None)))

    t0 = time.perf_counter()
    threading.Thread(target=run, daemon=True).start()
    while not result and time.perf_counter() - t0 < args.timeout:
        time.sleep(0.2)
    where = f"{args.actors} actor(s), 2 CPUs, {args.object_store_mib} MiB object store"
    if result:
        print(f"{where}: {result[0]} rows in {time.perf_counter() - t0:.1f} s")
    else:
        print(f"{where}: not finished after {args.timeout:.0f} s")
    sys.stdout.flush()
    import os

    os._exit(0 if result else 1)  # a stalled pipeline's threads would keep the process alive


if __name__ == "__main__":
    raise SystemExit(main())
