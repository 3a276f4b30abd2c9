"""JSON and CSV exports of structured records, for research spreadsheets and other systems.

JSON is the full :meth:`StructuredRecord.to_dict` (one object for one record, a
list for many) so it can be read back losslessly. CSV is one row per entity
with the record id, for Excel: written UTF-8 *with BOM* because Excel on a
Chinese Windows otherwise opens UTF-8 as GBK and shows mojibake.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from tcm_desktop.schema import ASSERTION_ZH, CATEGORY_BY_CODE
from tcm_desktop.structured import StructuredRecord

CSV_COLUMNS = (
    "record_id", "start", "end", "label", "label_zh", "text", "assertion", "assertion_zh", "score", "status",
    "canonical", "normalized", "model_version",
)


def to_json(records: StructuredRecord | Iterable[StructuredRecord], indent: int | None = 2) -> str:
    """One record -> a JSON object; several -> a JSON array. Chinese is kept readable (no \\u escapes)."""
    if isinstance(records, StructuredRecord):
        data: object = records.to_dict()
    else:
        data = [r.to_dict() for r in records]
    return json.dumps(data, ensure_ascii=False, indent=indent)


def from_json(text: str) -> list[StructuredRecord]:
    data = json.loads(text)
    if isinstance(data, dict):
        data = [data]
    return [StructuredRecord.from_dict(d) for d in data]


def write_atomic(path: str | Path, data: str, encoding: str = "utf-8") -> Path:
    """Write ``data`` to a temporary file next to ``path``, fsync, then rename over ``path``.

    A crash or a full disk leaves the previous file whole, never half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def safe_file_name(record_id: str, suffix: str, max_len: int = 100) -> str:
    """A file name made from an id: no separators, no ``..``, no reserved names, bounded length."""
    name = unicodedata.normalize("NFC", str(record_id))
    name = _UNSAFE.sub("_", name).strip(" .")
    name = re.sub(r"\.\.+", "_", name)[:max_len].strip(" .")
    if not name or name.split(".")[0].upper() in _WINDOWS_RESERVED:
        name = f"_{name}" if name else "record"
    return f"{name}{suffix}"


def path_in_folder(folder: str | Path, record_id: str, suffix: str, used: set[str] | None = None) -> Path:
    """``folder/<safe id><suffix>``, always inside ``folder``; ``used`` makes names unique (``-2``, ``-3``…)."""
    folder = Path(folder).resolve()
    base = safe_file_name(record_id, suffix)
    name, n = base, 1
    while used is not None and name.lower() in used:
        n += 1
        name = base[: -len(suffix)] + f"-{n}{suffix}" if suffix else f"{base}-{n}"
    if used is not None:
        used.add(name.lower())
    out = (folder / name).resolve()
    if out.parent != folder:
        raise ValueError(f"file name for {record_id!r} leaves {folder}")
    return out


def write_json(path: str | Path, records: StructuredRecord | Iterable[StructuredRecord]) -> Path:
    return write_atomic(path, to_json(records) + "\n")


def csv_rows(records: StructuredRecord | Iterable[StructuredRecord]) -> list[dict[str, object]]:
    """The CSV content as dicts: one per entity, in text order."""
    if isinstance(records, StructuredRecord):
        records = [records]
    rows: list[dict[str, object]] = []
    for r in records:
        for e in sorted(r.entities, key=lambda e: (e.start, e.end)):
            cat = CATEGORY_BY_CODE.get(e.label)
            rows.append({
                "record_id": r.id, "start": e.start, "end": e.end, "label": e.label,
                "label_zh": cat.zh if cat else "", "text": e.text, "assertion": e.assertion,
                "assertion_zh": ASSERTION_ZH.get(e.assertion, ""), "score": round(e.score, 4), "status": e.status,
                "canonical": str(e.normalized.get("canonical", "")) if e.normalized else "",
                "normalized": json.dumps(e.normalized, ensure_ascii=False) if e.normalized else "",
                "model_version": r.model_version,
            })
    return rows


def to_csv(records: StructuredRecord | Iterable[StructuredRecord]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    w.writeheader()
    w.writerows(csv_rows(records))
    return buf.getvalue()


def write_csv(path: str | Path, records: StructuredRecord | Iterable[StructuredRecord]) -> Path:
    return write_atomic(path, to_csv(records), encoding="utf-8-sig")
