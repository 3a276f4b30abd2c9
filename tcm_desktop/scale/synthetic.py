"""A synthetic archive for load tests: the team records' sentences recombined.

Real archive records are not shipped, and a load test needs many more records
than the team wrote. Each synthetic record takes a real record's number of
sentences and fills it with sentences drawn (seeded) from all team records,
so lengths and vocabulary follow the real records. For speed and memory
figures only: the texts are not clinically coherent and carry no labels.

    python -m tcm_desktop.scale.synthetic --records 100000 --files 20 --out DIR
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

from tcm_desktop.text.markup import parse_record_file

ANNOTATED = Path(__file__).resolve().parents[2] / "resources" / "annotated"
_SENTENCE = re.compile(r"[^。；！？\n]+[。；！？\n]?")


def team_sentences(root: Path = ANNOTATED) -> tuple[list[str], list[int]]:
    """Every sentence of the team records, and each record's sentence count."""
    sentences: list[str] = []
    counts: list[int] = []
    for path in sorted(root.glob("*/*.tcm.txt")):
        for rec in parse_record_file(path):
            parts = [s for s in _SENTENCE.findall(rec.text) if s.strip()]
            sentences.extend(parts)
            counts.append(len(parts))
    if not sentences:
        raise FileNotFoundError(f"no team records under {root}")
    return sentences, counts


def synthetic_records(n: int, seed: int = 0, prefix: str = "syn") -> Iterator[dict[str, str]]:
    """``n`` records ``{"id", "text"}``, the same for the same seed."""
    sentences, counts = team_sentences()
    rng = random.Random(seed)
    for i in range(n):
        k = rng.choice(counts)
        yield {"id": f"{prefix}-{i:07d}", "text": "".join(rng.choice(sentences) for _ in range(k)).strip()}


def _spread(n: int, files: int, seed: int) -> Iterator[tuple[int, dict[str, str]]]:
    """``(file number, record)``: ``n`` records over ``files`` files, consecutive ids in each."""
    for i, rec in enumerate(synthetic_records(n, seed)):
        yield i * files // n, rec


def write_jsonl_files(out: Path, n: int, files: int, seed: int = 0) -> list[Path]:
    """``n`` synthetic records spread over ``files`` JSONL files ``part-XXXX.jsonl``."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"part-{f:04d}.jsonl" for f in range(files)]
    handles = [open(p, "w", encoding="utf-8") for p in paths]
    try:
        for f, rec in _spread(n, files, seed):
            handles[f].write(json.dumps(rec, ensure_ascii=False) + "\n")
    finally:
        for h in handles:
            h.close()
    return paths


def write_parquet_files(out: Path, n: int, files: int, seed: int = 0, row_group_rows: int = 1_000) -> list[Path]:
    """The same records as :func:`write_jsonl_files` (same ``n``, ``files``, seed) as ``part-XXXX.parquet``
    files with columns ``id`` and ``text`` and row groups of ``row_group_rows``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    parts: list[list[dict[str, str]]] = [[] for _ in range(files)]
    for f, rec in _spread(n, files, seed):
        parts[f].append(rec)
    paths = [out / f"part-{f:04d}.parquet" for f in range(files)]
    for path, recs in zip(paths, parts):
        pq.write_table(pa.Table.from_pylist(recs, schema=pa.schema([("id", pa.string()), ("text", pa.string())])),
                       path, row_group_size=row_group_rows)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, required=True)
    ap.add_argument("--files", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--parquet", action="store_true", help="Parquet files (columns id, text) instead of JSONL")
    ap.add_argument("--row-group-rows", type=int, default=1_000, help="Parquet rows per row group")
    args = ap.parse_args(argv)
    if args.parquet:
        paths = write_parquet_files(args.out, args.records, args.files, args.seed, args.row_group_rows)
    else:
        paths = write_jsonl_files(args.out, args.records, args.files, args.seed)
    for p in paths:
        print(p)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
