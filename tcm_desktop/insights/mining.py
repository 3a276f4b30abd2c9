"""One call for the window and other front ends: read the database, mine every kind, keep both.

The transactions are kept with the rules so that "the records behind a rule"
and "similar past cases" need no second pass over the database.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path

from tcm_desktop.insights.rules import ItemTable, Rule, mine_kind
from tcm_desktop.insights.source import load_transactions
from tcm_desktop.insights.transactions import KINDS, Transaction


@dataclass
class MiningResult:
    transactions: list[Transaction]
    rules: list[Rule]
    min_count: int
    reviewed_only: bool = False
    by_id: dict[str, Transaction] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {t.record_id: t for t in self.transactions}


def mine_database(
    db_path: str | Path, min_count: int = 2, reviewed_only: bool = False
) -> Generator[tuple[int, int], None, MiningResult]:
    """Load and mine; a job generator (:mod:`tcm_desktop.progress`) yielding ``(done, total)``
    after loading and after each kind, so a cancel can stop it between kinds."""
    total = 1 + len(KINDS)
    transactions = load_transactions(db_path, reviewed_only=reviewed_only)
    yield 1, total
    rules: list[Rule] = []
    table = ItemTable(transactions)
    for i, kind in enumerate(KINDS):
        rules += mine_kind(transactions, kind, min_count=min_count, table=table)
        yield 2 + i, total
    return MiningResult(transactions, rules, min_count, reviewed_only)
