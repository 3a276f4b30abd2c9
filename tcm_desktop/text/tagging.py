"""BIO tags over the schema's labels, and the character normalisation the model sees.

Shared by training and run time so both agree exactly on tag order and on the
one-to-one character mapping (full-width ASCII to half-width, ideographic
space to space), which keeps every offset unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from tcm_desktop.schema import LABELS

#: Where windows are cut, by training and at run time alike: sentence ends first, then clause marks.
BREAKS = frozenset("。；;！？!?\n")
SOFT_BREAKS = frozenset("，,、：: ")


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


def _logsumexp(x: np.ndarray, axis: int) -> np.ndarray:
    m = x.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(x - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def decode_batch(emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray, start: np.ndarray,
                 end: np.ndarray) -> tuple[list[list[int]], list[np.ndarray]]:
    """Viterbi paths and CRF marginal probabilities for a padded batch ``[B, T, K]``.

    Vectorised over the batch (one numpy step per position, not per window).
    The confidence of each position is the CRF's marginal probability of the
    chosen tag (forward-backward), which is what a reviewer should see: how
    sure the whole model, transitions included, is of that tag.
    """
    b, t_len, k = emissions.shape
    em = emissions.astype(np.float32)
    transitions = transitions.astype(np.float32)
    lengths = np.asarray(lengths)
    valid = np.arange(t_len)[None, :] < lengths[:, None]  # [B, T]
    # Viterbi
    score = start[None, :] + em[:, 0]
    back = np.zeros((b, t_len, k), dtype=np.int32)
    for t in range(1, t_len):
        cand = score[:, :, None] + transitions[None]
        idx = cand.argmax(1)
        back[:, t] = idx
        nxt = np.take_along_axis(cand, idx[:, None, :], 1)[:, 0] + em[:, t]
        score = np.where(valid[:, t : t + 1], nxt, score)
    score = score + end[None, :]
    em = em.astype(np.float64)
    # forward-backward in scaled probability space (a batched matrix product per step)
    p = np.exp(em - em.max(axis=2, keepdims=True))  # per-position shifts cancel in the marginals
    trans_p = np.exp(transitions - transitions.max())
    alpha = np.empty((b, t_len, k))
    a = np.exp(start - start.max())[None, :] * p[:, 0]
    alpha[:, 0] = a / a.sum(1, keepdims=True)
    for t in range(1, t_len):
        a = (alpha[:, t - 1] @ trans_p) * p[:, t]
        a /= np.maximum(a.sum(1, keepdims=True), 1e-300)
        alpha[:, t] = np.where(valid[:, t : t + 1], a, alpha[:, t - 1])
    beta = np.empty((b, t_len, k))
    end_p = np.exp(end - end.max())
    beta[:, t_len - 1] = end_p
    last = lengths - 1
    for t in range(t_len - 2, -1, -1):
        nb = (p[:, t + 1] * beta[:, t + 1]) @ trans_p.T
        nb /= np.maximum(nb.sum(1, keepdims=True), 1e-300)
        beta[:, t] = np.where((t < last)[:, None], nb, end_p[None, :])
    post = alpha * beta
    post /= np.maximum(post.sum(2, keepdims=True), 1e-300)
    paths: list[list[int]] = []
    confs: list[np.ndarray] = []
    for i in range(b):
        n = int(lengths[i])
        if n == 0:
            paths.append([])
            confs.append(np.zeros(0, np.float32))
            continue
        best = [int(score[i].argmax())]
        for t in range(n - 1, 0, -1):
            best.append(int(back[i, t, best[-1]]))
        best.reverse()
        marg = post[i, np.arange(n), best]
        paths.append(best)
        confs.append(np.clip(marg, 0.0, 1.0).astype(np.float32))
    return paths, confs
