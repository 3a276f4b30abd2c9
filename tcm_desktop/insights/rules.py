"""Association rules over the clinic's records (symptom→syndrome, syndrome→formula…).

Frequent itemsets come from ``efficient-apriori`` (a maintained, dependency-free
Apriori); this module only restricts each kind's transactions to the
categories that kind relates, and turns itemset counts into rules whose
antecedent and consequent sit on the kind's two sides.

Definitions, with N records (all records, including those without any item
of the kind) and count(X) the number of records holding every item of X:

- ``count`` = count(A ∪ C); ``support`` = count / N;
- ``confidence`` = count / count(A);
- ``lift`` = confidence / (count(C) / N);
- ``conviction`` = (1 − count(C)/N) / (1 − confidence), infinite when confidence is 1.

Why rules of one antecedent item by default (``max_antecedent=1``): with
three-item sets the number of frequent itemsets grows ~7× and mining
100,000 records at a minimum count of 5 takes minutes instead of seconds on a
clinic PC; longer antecedents are available for small databases (whole
records go to apriori then, see :func:`_cross_pair_counts` for the default).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from efficient_apriori import itemsets_from_transactions

from tcm_desktop.insights.transactions import KINDS, Item, Kind, Transaction

_SEP = "\t"


@dataclass(frozen=True)
class Rule:
    """antecedent → consequent, with the counts every measure is computed from."""

    kind: str
    antecedent: tuple[Item, ...]
    consequent: tuple[Item, ...]
    count: int
    antecedent_count: int
    consequent_count: int
    n: int

    @property
    def support(self) -> float:
        return self.count / self.n

    @property
    def confidence(self) -> float:
        return self.count / self.antecedent_count

    @property
    def lift(self) -> float:
        return self.confidence * self.n / self.consequent_count

    @property
    def conviction(self) -> float:
        if self.confidence >= 1.0:
            return math.inf
        return (1.0 - self.consequent_count / self.n) / (1.0 - self.confidence)

    @property
    def items(self) -> frozenset[Item]:
        return frozenset(self.antecedent) | frozenset(self.consequent)

    @property
    def key(self) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        """Names only: what identifies a rule across two mining runs."""
        return self.kind, tuple(n for _, n in self.antecedent), tuple(n for _, n in self.consequent)

    def to_json(self) -> dict:
        """The CLI's contract for one rule (conviction is null when infinite)."""
        conviction = self.conviction
        return {
            "kind": self.kind,
            "antecedent": [name for _, name in self.antecedent],
            "consequent": [name for _, name in self.consequent],
            "count": self.count,
            "support": round(self.support, 6),
            "confidence": round(self.confidence, 6),
            "lift": round(self.lift, 6),
            "conviction": None if math.isinf(conviction) else round(conviction, 6),
        }


def _encode(item: Item) -> str:
    return item[0] + _SEP + item[1]


def _decode(s: str) -> Item:
    label, name = s.split(_SEP, 1)
    return label, name


def _itemset_counts(rows: Sequence[tuple[str, ...]], min_count: int, max_length: int) -> dict[frozenset[str], int]:
    """Frequent itemsets (record counts) of up to ``max_length`` items, by efficient-apriori."""
    if not rows:
        return {}
    # a hair under min_count / n so float rounding never drops an itemset at exactly min_count
    itemsets, _ = itemsets_from_transactions(rows, min_support=(min_count - 0.5) / len(rows), max_length=max_length)
    return {frozenset(s): c for level in itemsets.values() for s, c in level.items()}


class ItemTable:
    """Every (record, item) of the transactions as two integer arrays, built once for all kinds."""

    def __init__(self, transactions: Sequence[Transaction]) -> None:
        vocab: dict[Item, int] = {}
        recs: list[int] = []
        ids: list[int] = []
        for r, t in enumerate(transactions):
            for it in t.items:
                recs.append(r)
                ids.append(vocab.setdefault(it, len(vocab)))
        self.names = [_encode(it) for it in vocab]
        self.labels = [it[0] for it in vocab]
        self.rec = np.asarray(recs, dtype=np.int64)
        self.item = np.asarray(ids, dtype=np.int64)


def _cross_pair_counts(transactions: Sequence[Transaction], k: Kind, min_count: int,
                       table: ItemTable | None = None) -> dict[frozenset[str], int]:
    """Single items and the pairs that join the kind's two sides, counted with numpy.

    Why not apriori here: for one-item antecedents only pairs across the two
    sides matter, but apriori over whole records counts every same-side pair
    too (symptom–symptom, herb–herb) by intersecting Python sets, far too slow
    for 100,000 records (``benchmarks/bench_insights.py --method apriori``,
    numbers in docs/insights.md). The cross pairs are a sparse contingency
    count: every (left item, right item) of each record, coded as one integer
    and counted with ``np.unique``. Longer antecedents go to efficient-apriori;
    ``tests/test_insights.py`` checks that both give the same one-item rules.
    """
    table = table if table is not None else ItemTable(transactions)
    names = table.names
    in_kind = np.array([label in k.labels for label in table.labels], dtype=bool)
    sel = in_kind[table.item]
    rec, item = table.rec[sel], table.item[sel]
    if len(item) == 0:
        return {}
    singles = np.bincount(item, minlength=len(names))  # items are sets: once per record
    is_left = np.array([label in k.antecedent for label in table.labels], dtype=bool)[item]
    lrec, litem = rec[is_left], item[is_left]
    rrec, ritem = rec[~is_left], item[~is_left]
    order = np.argsort(lrec, kind="stable")
    lrec, litem = lrec[order], litem[order]
    n_rec = len(transactions)
    per_rec = np.bincount(lrec, minlength=n_rec)  # left items of each record
    start = np.concatenate(([0], np.cumsum(per_rec)[:-1]))
    rep = per_rec[rrec]  # each right entry meets every left item of its record
    total = int(rep.sum())
    counts: dict[frozenset[str], int] = {
        frozenset((names[i],)): int(c) for i, c in enumerate(singles) if c >= min_count
    }
    if total == 0:
        return counts
    first = np.repeat(start[rrec] - (np.cumsum(rep) - rep), rep) + np.arange(total)
    codes = litem[first] * len(names) + np.repeat(ritem, rep)
    uniq, n = np.unique(codes, return_counts=True)
    keep = n >= min_count
    for code, c in zip(uniq[keep].tolist(), n[keep].tolist()):
        counts[frozenset((names[code // len(names)], names[code % len(names)]))] = c
    return counts


def mine_kind(
    transactions: Sequence[Transaction],
    kind: Kind | str,
    min_count: int = 2,
    min_confidence: float = 0.0,
    max_antecedent: int = 1,
    table: ItemTable | None = None,
    method: str = "auto",
) -> list[Rule]:
    """Rules of one kind, strongest first (confidence, then count); ``table`` saves rebuilding it per kind.

    ``method="apriori"`` sends one-item antecedents through efficient-apriori too (for the tests and the
    benchmark's comparison); ``"auto"`` counts them with numpy.
    """
    k = KINDS[kind] if isinstance(kind, str) else kind
    n = len(transactions)
    if n == 0:
        return []
    min_count = max(1, int(min_count))
    if max_antecedent == 1 and method == "auto":
        counts = _cross_pair_counts(transactions, k, min_count, table)
    else:
        rows = [tuple(_encode(i) for i in t.items if i[0] in k.labels) for t in transactions]
        counts = _itemset_counts(rows, min_count, max_antecedent + 1)
    sides = [(k.antecedent, k.consequent)] + ([(k.consequent, k.antecedent)] if k.both_ways else [])
    out: list[Rule] = []
    for itemset, count in counts.items():
        if len(itemset) < 2 or count < min_count:
            continue
        for left_labels, right_labels in sides:
            left = [s for s in itemset if s.split(_SEP, 1)[0] in left_labels]
            right = [s for s in itemset if s.split(_SEP, 1)[0] in right_labels]
            # every item on one side or the other; the consequent is the whole right side of the itemset
            if not left or not right or len(left) + len(right) != len(itemset) or len(left) > max_antecedent:
                continue
            a_count = counts[frozenset(left)]
            if count / a_count < min_confidence:
                continue
            out.append(Rule(k.name, tuple(_decode(s) for s in sorted(left)), tuple(_decode(s) for s in sorted(right)),
                            count, a_count, counts[frozenset(right)], n))
    out.sort(key=lambda r: (-r.confidence, -r.count, r.key))
    return out


def mine_rules(
    transactions: Sequence[Transaction],
    kinds: Iterable[str] | None = None,
    min_count: int = 2,
    min_confidence: float = 0.0,
    max_antecedent: int = 1,
    progress: Callable[[int, int], None] | None = None,
    method: str = "auto",
) -> list[Rule]:
    """Rules of every kind asked for (all kinds by default), each kind strongest first."""
    names = list(kinds) if kinds is not None else list(KINDS)
    unknown = [k for k in names if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown rule kind {unknown[0]!r} (choose from {', '.join(KINDS)})")
    out: list[Rule] = []
    table = ItemTable(transactions) if max_antecedent == 1 else None
    for i, name in enumerate(names):
        out += mine_kind(transactions, name, min_count, min_confidence, max_antecedent, table, method)
        if progress:
            progress(i + 1, len(names))
    return out


def records_for_rule(transactions: Iterable[Transaction], rule: Rule) -> list[Transaction]:
    """The records behind a rule: those holding its antecedent and consequent together."""
    need = rule.items
    return [t for t in transactions if need <= t.items]

