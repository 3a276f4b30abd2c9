"""The review queue: every record with its review progress, filters, and which record to review next.

Why a Qt-free module over the database: the history list, the review queue
and the CLI ask the same questions (how far is this record reviewed? which
records still have unsure entities?) of the ``entities`` table, which keeps
each saved entity's ``status`` and ``score``. Titles say what a record is
(patient, chief complaint or first diagnosis) so 200 imported records do not
all read alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tcm_desktop.structured import StructuredRecord

QUEUE_STATES = ("unreviewed", "in_review", "done")
LOW_CONFIDENCE = 0.6
_DIAGNOSIS = ("TCM_DISEASE", "SYNDROME", "WM_DISEASE")


@dataclass(frozen=True)
class QueueEntry:
    """One record in the queue: identity, title, dates and review progress of its current version."""

    record_id: str
    title: str
    patient_name: str
    created: str
    updated: str
    version: int
    total: int
    unreviewed: int
    reviewed: int
    low_confidence: int  # unreviewed entities scored below the threshold

    @property
    def state(self) -> str:
        """``unreviewed`` (nothing decided), ``in_review`` or ``done`` (nothing left unreviewed)."""
        if self.unreviewed == 0:
            return "done"
        return "in_review" if self.reviewed else "unreviewed"


def record_title(record: StructuredRecord, patient: str = "", limit: int = 40) -> str:
    """What a doctor recognises: patient, chief complaint (or first line) and the first diagnosis."""
    text = record.text
    complaint = ""
    for s in record.sections:
        if s.name == "chief_complaint":
            complaint = text[s.start:s.end].strip().rstrip("。；;，,")
            break
    if not complaint:
        complaint = next((line.strip() for line in text.splitlines() if line.strip()), "")
        if "：" in complaint[:6]:
            complaint = complaint.split("：", 1)[1]
    diag = next((s for s in record.sections if s.name == "diagnosis"), None)
    candidates = [e for e in record.entities if e.label in _DIAGNOSIS and e.assertion == "present"]
    in_section = [e for e in candidates if diag is not None and diag.start <= e.start < diag.end]
    diagnosis = (in_section or candidates or [None])[0]
    diagnosis = diagnosis.text if diagnosis is not None else ""
    parts = [p for p in (patient.strip(), complaint[:24], diagnosis) if p]
    title = " · ".join(dict.fromkeys(parts))
    return title[:limit] or record.id[:8]


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def review_queue(
    db: Any,
    state: str | None = None,
    low_confidence: bool = False,
    category: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    search: str = "",
    exclude_negated: bool = False,
    threshold: float = LOW_CONFIDENCE,
    limit: int = 1000,
) -> list[QueueEntry]:
    """Records, newest first, with their progress; every argument narrows the list.

    ``state``: one of :data:`QUEUE_STATES`; ``low_confidence``: only records with an unreviewed
    entity scored below ``threshold``; ``category``: only records with an entity of that label;
    ``date_from``/``date_to``: ``YYYY-MM-DD`` bounds on the last save (inclusive); ``search``: a
    substring of the text, or with ``exclude_negated`` of an entity that is not negated
    (咳嗽 then finds 咳嗽 but not 无咳嗽咯痰).
    """
    cur = "e.record_id = r.id AND e.version = r.current_version"
    sql = (
        "SELECT r.id, r.title, COALESCE(p.name, ''), r.created, r.updated, r.current_version, "
        f"(SELECT COUNT(*) FROM entities e WHERE {cur}), "
        f"(SELECT COUNT(*) FROM entities e WHERE {cur} AND e.status = 'unreviewed'), "
        f"(SELECT COUNT(*) FROM entities e WHERE {cur} AND e.status = 'unreviewed' AND e.score < ?) "
        "FROM records r JOIN record_versions v ON v.record_id = r.id AND v.version = r.current_version "
        "LEFT JOIN patients p ON p.id = r.patient_id WHERE 1=1 "
    )
    params: list[Any] = [threshold]
    if category:
        sql += f"AND EXISTS (SELECT 1 FROM entities e WHERE {cur} AND e.label = ?) "
        params.append(category)
    if date_from:
        sql += "AND substr(r.updated, 1, 10) >= ? "
        params.append(date_from)
    if date_to:
        sql += "AND substr(r.updated, 1, 10) <= ? "
        params.append(date_to)
    q = search.strip()
    if q:
        if exclude_negated:
            sql += (f"AND EXISTS (SELECT 1 FROM entities e WHERE {cur} AND e.assertion != 'absent' "
                    "AND e.text LIKE ? ESCAPE '\\') ")
            params.append(_like(q))
        else:
            sql += "AND (v.text LIKE ? ESCAPE '\\' OR r.title LIKE ? ESCAPE '\\' OR p.name LIKE ? ESCAPE '\\') "
            params += [_like(q)] * 3
    sql += "ORDER BY r.updated DESC, r.rowid DESC"
    out = []
    for rid, title, pname, created, updated, ver, n, unrev, low in db.db.execute(sql, params).fetchall():
        out.append(QueueEntry(rid, title, pname, created, updated, int(ver), int(n), int(unrev), int(n - unrev),
                              int(low)))
    if state:
        out = [e for e in out if e.state == state]
    if low_confidence:
        out = [e for e in out if e.low_confidence]
    return out[:limit]


def next_to_review(entries: list[QueueEntry], after: str | None = None) -> QueueEntry | None:
    """The first record after ``after`` (wrapping) that still has unreviewed entities."""
    if not entries:
        return None
    ids = [e.record_id for e in entries]
    start = ids.index(after) + 1 if after in ids else 0
    for k in range(len(entries)):
        e = entries[(start + k) % len(entries)]
        if e.state != "done" and e.record_id != after:
            return e
    return None
