"""Character error rate: how the OCR benchmark and tests score a reading against the typed text."""

from __future__ import annotations


def squeeze(s: str) -> str:
    """Whitespace removed: line breaks depend on the page layout, not on the reading."""
    return "".join(s.split())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions all cost 1)."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return prev[-1]


def cer(hypothesis: str, reference: str) -> float:
    ref = squeeze(reference)
    return edit_distance(squeeze(hypothesis), ref) / max(1, len(ref))
