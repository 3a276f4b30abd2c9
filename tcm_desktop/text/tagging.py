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


#: :func:`model_char` as a ``str.translate`` table (the characters it changes).
MODEL_CHARS = {o: ord(model_char(chr(o))) for o in [*range(0xFF01, 0xFF5F), 0x3000, ord("\t")]}


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


def crf_decode(emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray, start: np.ndarray,
               end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Viterbi paths ``[B, T]`` and CRF marginal probabilities ``[B, T]`` of a padded batch ``[B, T, K]``.

    Vectorised over the batch, backtrace included (one numpy step per
    position, not per window or per character). The confidence of each
    position is the CRF's marginal probability of the chosen tag
    (forward-backward), which is what a reviewer should see: how sure the
    whole model, transitions included, is of that tag. Positions past a
    window's length hold padding values.
    """
    b, t_len, k = emissions.shape
    em = emissions.astype(np.float32)
    transitions = transitions.astype(np.float32)
    lengths = np.asarray(lengths)
    valid = np.arange(t_len)[None, :] < lengths[:, None]  # [B, T]
    full = int(lengths.min()) if b else 0  # positions every window reaches: no masking needed there
    # Viterbi over [B, to, from]: argmax along the contiguous last axis is the fast one
    trans_t = np.ascontiguousarray(transitions.T)[None]
    score = start[None, :] + em[:, 0]
    back = np.zeros((b, t_len, k), dtype=np.intp)
    for t in range(1, t_len):
        cand = score[:, None, :] + trans_t
        idx = cand.argmax(2)
        back[:, t] = idx
        best = np.take_along_axis(cand, idx[:, :, None], 2)[:, :, 0]
        score = best + em[:, t] if t < full else np.where(valid[:, t : t + 1], best + em[:, t], score)
    score = score + end[None, :]
    rows = np.arange(b)
    last = lengths - 1
    final = score.argmax(1)
    paths = np.empty((b, t_len), dtype=np.intp)
    cur = final
    for t in range(t_len - 1, -1, -1):
        if t < t_len - 1:
            cur = np.where(t < last, back[rows, t + 1, cur], final)
        paths[:, t] = cur
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
        alpha[:, t] = a if t < full else np.where(valid[:, t : t + 1], a, alpha[:, t - 1])
    beta = np.empty((b, t_len, k))
    end_p = np.exp(end - end.max())
    beta[:, t_len - 1] = end_p
    trans_p_t = trans_p.T
    for t in range(t_len - 2, -1, -1):
        nb = (p[:, t + 1] * beta[:, t + 1]) @ trans_p_t
        nb /= np.maximum(nb.sum(1, keepdims=True), 1e-300)
        beta[:, t] = nb if t < full - 1 else np.where((t < last)[:, None], nb, end_p[None, :])
    # only the chosen tag's marginal is needed: normalise that one entry per position
    post = alpha * beta
    total = np.maximum(post.sum(2), 1e-300)
    marg = np.take_along_axis(post, paths[:, :, None], 2)[:, :, 0] / total
    return paths, np.clip(marg, 0.0, 1.0).astype(np.float32)


def decode_batch(emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray, start: np.ndarray,
                 end: np.ndarray) -> tuple[list[list[int]], list[np.ndarray]]:
    """:func:`crf_decode` cut to each window's length: per-window paths and confidences."""
    paths, marg = crf_decode(emissions, lengths, transitions, start, end)
    lengths = np.asarray(lengths)
    return ([paths[i, : int(n)].tolist() for i, n in enumerate(lengths)],
            [marg[i, : int(n)] for i, n in enumerate(lengths)])


class SpanDecoder:
    """BIO paths of a whole batch to ``(start, end, label, confidence)`` spans at once (numpy).

    Same spans as :func:`spans_from_tags` window by window: a span starts at a
    ``B-X``, or at an ``I-X`` not continuing an ``X``; its confidence is the
    lowest marginal probability of its characters.
    """

    def __init__(self, tags: Sequence[str]) -> None:
        labels = sorted({t[2:] for t in tags if t != "O"})
        self.labels = labels
        self.label_of = np.array([0 if t == "O" else 1 + labels.index(t[2:]) for t in tags], dtype=np.intp)
        self.is_inside = np.array([t.startswith("I-") for t in tags], dtype=bool)

    def __call__(self, paths: np.ndarray, conf: np.ndarray, lengths: np.ndarray) -> list[list[tuple[int, int, str, float]]]:
        b, t_len = paths.shape
        width = t_len + 1  # one O column after every row, so no span crosses rows
        lab = np.zeros((b, width), dtype=np.intp)
        lab[:, :t_len] = np.where(np.arange(t_len)[None, :] < np.asarray(lengths)[:, None], self.label_of[paths], 0)
        inside = np.zeros((b, width), dtype=bool)
        inside[:, :t_len] = self.is_inside[paths]
        lab, inside = lab.ravel(), inside.ravel()
        prev = np.concatenate(([0], lab[:-1]))
        cont = inside & (lab == prev) & (lab != 0)
        starts = np.flatnonzero((lab != 0) & ~cont)
        bounds = np.flatnonzero(~cont)
        ends = bounds[np.searchsorted(bounds, starts, side="right")]
        flat_conf = np.zeros(b * width + 1, dtype=np.float32)
        flat_conf[: b * width].reshape(b, width)[:, :t_len] = conf
        low = np.minimum.reduceat(flat_conf, np.stack([starts, ends], 1).ravel())[::2] if len(starts) else flat_conf[:0]
        out: list[list[tuple[int, int, str, float]]] = [[] for _ in range(b)]
        for s, e, la, c in zip(starts.tolist(), ends.tolist(), lab[starts].tolist(), low.tolist()):
            row, off = divmod(s, width)
            out[row].append((off, e - row * width, self.labels[la - 1], c))
        return out
