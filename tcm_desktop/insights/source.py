"""Read the clinic's records from the database as transactions.

The one place the insights touch storage: the ``entities`` table (a
queryable copy of every saved version) joined with each record's current
version, read in one ordered pass so 100,000 records load in seconds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tcm_desktop.insights.transactions import Transaction, make_transaction
from tcm_desktop.records.database import Database

_QUERY = (
    'SELECT r.id, r.title, e.label, e.text, e.assertion, e.status, e.normalized FROM records r '
    "LEFT JOIN entities e ON e.record_id = r.id AND e.version = r.current_version "
    "ORDER BY r.rowid"
)


def load_transactions(
    db: Database | str | Path,
    reviewed_only: bool = False,
    progress: Callable[[int], None] | None = None,
) -> list[Transaction]:
    """Every record's latest version as a transaction (only fully reviewed records with ``reviewed_only``)."""
    own = not isinstance(db, Database)
    database = Database(db) if own else db
    try:
        out: list[Transaction] = []
        current: str | None = None
        title = ""
        ents: list[dict] = []

        def flush() -> None:
            if current is None:
                return
            tx = make_transaction(current, ents, title)
            if tx.reviewed or not reviewed_only:
                out.append(tx)
            if progress and len(out) % 5000 == 0:
                progress(len(out))

        for rid, rtitle, label, text, assertion, status, normalized in database.db.conn.execute(_QUERY):
            if rid != current:
                flush()
                current, title, ents = rid, rtitle or "", []
            if label is not None:
                ents.append({"label": label, "text": text, "assertion": assertion, "status": status,
                             "normalized": json.loads(normalized) if normalized and normalized != "{}" else {}})
        flush()
        return out
    finally:
        if own:
            database.close()
