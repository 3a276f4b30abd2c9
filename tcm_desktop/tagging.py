"""BIO tags over the schema's labels, and the character normalisation the model sees.

Shared by training and run time so both agree exactly on tag order and on the
one-to-one character mapping (full-width ASCII to half-width, ideographic
space to space), which keeps every offset unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from .schema import LABELS


def tag_names(labels: Sequence[str] = LABELS) -> list[str]:
    """``O`` then ``B-X``, ``I-X`` for every label X."""
    out = ["O"]
    for lab in labels:
        out += [f"B-{lab}", f"I-{lab}"]
    return out


def model_char(c: str) -> str:
    """One-to-one character normalisation applied before the vocabulary lookup."""
    o = ord(c)
    if 0xFF01 <= o <= 0xFF5E:
        return chr(o - 0xFEE0)
    if o == 0x3000 or c in "\t\r\n":
        return " " if o == 0x3000 or c == "\t" else c
    return c


def allowed_transitions(tags: Sequence[str]) -> np.ndarray:
    """``[from, to]`` boolean matrix of BIO-valid transitions (I-X only after B-X/I-X)."""
    k = len(tags)
    ok = np.ones((k, k), dtype=bool)
    for j, t in enumerate(tags):
        if t.startswith("I-"):
            lab = t[2:]
            for i, f in enumerate(tags):
                ok[i, j] = f in (f"B-{lab}", f"I-{lab}")
    return ok


def allowed_starts(tags: Sequence[str]) -> np.ndarray:
    return np.array([not t.startswith("I-") for t in tags], dtype=bool)


def spans_from_tags(tag_ids: Iterable[int], tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Decode a BIO tag sequence into ``(start, end, label)`` spans."""
    spans: list[tuple[int, int, str]] = []
    cur: list | None = None
    for i, ti in enumerate(tag_ids):
        t = tags[ti]
        if t.startswith("B-") or (t.startswith("I-") and (cur is None or cur[2] != t[2:])):
            if cur:
                spans.append(tuple(cur))  # type: ignore[arg-type]
            cur = [i, i + 1, t[2:]]
        elif t.startswith("I-") and cur is not None:
            cur[1] = i + 1
        else:
            if cur:
                spans.append(tuple(cur))  # type: ignore[arg-type]
            cur = None
    if cur:
        spans.append(tuple(cur))  # type: ignore[arg-type]
    return spans


def viterbi(emissions: np.ndarray, transitions: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Best tag path for one sequence (``[T, K]`` emissions) and per-position marginal confidence.

    The transition matrices already carry the BIO constraints as large negative
    scores. The confidence is the softmax of the emission scores at the chosen
    tag (a cheap, monotone proxy used to rank spans for review).
    """
    t_len, k = emissions.shape
    if t_len == 0:
        return [], np.zeros(0, dtype=np.float32)
    score = start + emissions[0]
    back = np.zeros((t_len, k), dtype=np.int32)
    for t in range(1, t_len):
        cand = score[:, None] + transitions
        back[t] = cand.argmax(0)
        score = cand.max(0) + emissions[t]
    score = score + end
    best = [int(score.argmax())]
    for t in range(t_len - 1, 0, -1):
        best.append(int(back[t, best[-1]]))
    best.reverse()
    e = emissions - emissions.max(1, keepdims=True)
    p = np.exp(e)
    p /= p.sum(1, keepdims=True)
    conf = p[np.arange(t_len), best].astype(np.float32)
    return best, conf
