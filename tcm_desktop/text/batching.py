"""Dynamic batch pruning: pack model windows by length under a token budget.

Sorting windows by length before batching means each batch pads only to the
length of its own longest window, and the token budget (batch size x padded
length) caps peak activation memory whatever mix of record lengths arrives.
``naive_batches`` is the baseline the benchmark compares against: fixed batch
size, input order, padding to the longest window of the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def length_bucketed(items: Sequence[T], length: Callable[[T], int], max_tokens: int, max_batch: int = 256) -> list[list[int]]:
    """Indices of ``items`` grouped into batches whose padded size stays under ``max_tokens``."""
    order = sorted(range(len(items)), key=lambda i: length(items[i]))
    batches: list[list[int]] = []
    cur: list[int] = []
    cur_max = 0
    for i in order:
        n = length(items[i])
        new_max = max(cur_max, n)
        if cur and (new_max * (len(cur) + 1) > max_tokens or len(cur) >= max_batch):
            batches.append(cur)
            cur, new_max = [], n
        cur.append(i)
        cur_max = new_max
    if cur:
        batches.append(cur)
    return batches


def naive_batches(n_items: int, batch_size: int) -> list[list[int]]:
    """Fixed-size batches in input order (what a simple pipeline does)."""
    return [list(range(i, min(i + batch_size, n_items))) for i in range(0, n_items, batch_size)]


def padded_tokens(batches: Sequence[Sequence[int]], lengths: Sequence[int]) -> int:
    """Tokens actually computed (padding included) for a batching plan."""
    return sum(max(lengths[i] for i in b) * len(b) for b in batches if b)
