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


def write_json(path: str | Path, records: StructuredRecord | Iterable[StructuredRecord]) -> Path:
    path = Path(path)
    path.write_text(to_json(records) + "\n", encoding="utf-8")
    return path


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
    path = Path(path)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        f.write(to_csv(records))
    return path
