"""Past cases most like the record on screen, by overlap of present findings.

Score = Jaccard overlap of the findings (symptoms, signs, tongue, coating,
pulse) plus, as a tie-breaker worth less than one shared finding, the overlap
of diagnoses (syndrome, TCM disease). Only ``present`` findings count, so
"no fever" never makes two cases look alike.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass

from tcm_desktop.insights.transactions import FINDINGS, Transaction

DIAGNOSES = frozenset({"SYNDROME", "TCM_DISEASE"})


@dataclass(frozen=True)
class SimilarCase:
    record_id: str
    title: str
    score: float
    shared: tuple[str, ...]  # shared findings, by name


def similar_cases(target: Transaction, past: Iterable[Transaction], k: int = 10) -> list[SimilarCase]:
    """The ``k`` records sharing the most present findings with ``target`` (itself excluded)."""
    mine = {i for i in target.items if i[0] in FINDINGS}
    mine_dx = {i for i in target.items if i[0] in DIAGNOSES}
    if not mine:
        return []
    scored: list[tuple[float, str, SimilarCase]] = []
    for t in past:
        if t.record_id == target.record_id:
            continue
        theirs = {i for i in t.items if i[0] in FINDINGS}
        shared = mine & theirs
        if not shared:
            continue
        score = len(shared) / len(mine | theirs)
        dx = {i for i in t.items if i[0] in DIAGNOSES}
        if mine_dx and dx:
            score += 0.01 * len(mine_dx & dx) / len(mine_dx | dx)
        scored.append((score, t.record_id, SimilarCase(t.record_id, t.title, round(score, 4),
                                                       tuple(sorted(n for _, n in shared)))))
    best = heapq.nsmallest(k, scored, key=lambda x: (-x[0], x[1]))  # ties: by record id
    return [c for _, _, c in best]
