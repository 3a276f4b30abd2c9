"""One call for the window and other front ends: read the database, mine every kind, keep both.

The transactions are kept with the rules so that "the records behind a rule"
and "similar past cases" need no second pass over the database.
"""

from __future__ import annotations

from collections.abc import Callable
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
    db_path: str | Path,
    min_count: int = 2,
    reviewed_only: bool = False,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> MiningResult | None:
    """Load and mine; ``progress(done, total)`` after loading and after each kind; None when stopped."""
    total = 1 + len(KINDS)
    transactions = load_transactions(db_path, reviewed_only=reviewed_only)
    if progress:
        progress(1, total)
    rules: list[Rule] = []
    table = ItemTable(transactions)
    for i, kind in enumerate(KINDS):
        if should_stop and should_stop():
            return None
        rules += mine_kind(transactions, kind, min_count=min_count, table=table)
        if progress:
            progress(2 + i, total)
    return MiningResult(transactions, rules, min_count, reviewed_only)
