"""Strict span-level precision / recall / F1, micro and macro, per category."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

Span = tuple[int, int, str]


def _prf(tp: int, predicted: int, gold: int) -> dict:
    """Precision, recall and F1 from true positives and the predicted and gold counts; support = gold."""
    p = tp / predicted if predicted else 0.0
    r = tp / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": p, "r": r, "f1": f, "support": gold}


def score(gold: Sequence[Iterable[Span]], pred: Sequence[Iterable[Span]], labels: Iterable[str]) -> dict:
    """Score only ``labels`` (the categories the source annotates)."""
    labels = list(labels)
    keep = set(labels)
    tp: Counter = Counter()
    fp: Counter = Counter()
    fn: Counter = Counter()
    for g, p in zip(gold, pred):
        gs = {s for s in g if s[2] in keep}
        ps = {s for s in p if s[2] in keep}
        for s in gs & ps:
            tp[s[2]] += 1
        for s in ps - gs:
            fp[s[2]] += 1
        for s in gs - ps:
            fn[s[2]] += 1

    per = {lab: _prf(tp[lab], tp[lab] + fp[lab], tp[lab] + fn[lab]) for lab in labels}
    t = sum(tp.values())
    micro = _prf(t, t + sum(fp.values()), t + sum(fn.values()))
    present = [v for v in per.values() if v["support"] > 0]
    macro = sum(v["f1"] for v in present) / len(present) if present else 0.0
    return {"micro": micro, "macro_f1": macro, "per_label": per}


def score_by_novelty(
    texts: Sequence[str],
    gold: Sequence[Iterable[Span]],
    pred: Sequence[Iterable[Span]],
    seen: set[tuple[str, str]],
    labels: Iterable[str],
    min_support: int = 20,
) -> dict:
    """Strict scores split by whether an entity's (surface string, label) was annotated in training.

    Recall is over gold entities of the group, precision over predicted entities
    of the group (each judged by its own string), so a model that only
    memorised training strings shows a low unseen F1. Per category only where
    the group has ``min_support`` gold entities.
    """
    labels = list(labels)
    keep = set(labels)
    tp: Counter = Counter()
    n_gold: Counter = Counter()
    n_pred: Counter = Counter()
    gold_keys: set[tuple[str, str]] = set()
    for text, g, p in zip(texts, gold, pred):
        gs = {s for s in g if s[2] in keep}
        ps = {s for s in p if s[2] in keep}
        for s in gs:
            key = (text[s[0] : s[1]], s[2])
            gold_keys.add(key)
            group = "seen" if key in seen else "unseen"
            n_gold[group, s[2]] += 1
            if s in ps:
                tp[group, s[2]] += 1
        for s in ps:
            n_pred["seen" if (text[s[0] : s[1]], s[2]) in seen else "unseen", s[2]] += 1

    def prf(group: str, labs: Iterable[str]) -> dict:
        labs = list(labs)
        npred = sum(n_pred[group, lab] for lab in labs)
        res = _prf(sum(tp[group, lab] for lab in labs), npred, sum(n_gold[group, lab] for lab in labs))
        return {**res, "predicted": npred}

    out: dict = {}
    for group in ("unseen", "seen"):
        out[group] = prf(group, keep)
        out[group]["per_label"] = {lab: prf(group, [lab]) for lab in labels if n_gold[group, lab] >= min_support}
    total = sum(n_gold.values())
    # Share of gold mentions, and of distinct gold (string, label) pairs, annotated in training.
    out["seen_share"] = sum(v for (grp, _), v in n_gold.items() if grp == "seen") / total if total else 0.0
    out["seen_share_strings"] = len(gold_keys & seen) / len(gold_keys) if gold_keys else 0.0
    return out


def record_counts(gold: Sequence[set], pred: Sequence[set]) -> np.ndarray:
    """Per-record true positives, predicted and gold counts, for the bootstrap."""
    return np.array([(len(g & p), len(p), len(g)) for g, p in zip(gold, pred)], dtype=np.int64).reshape(-1, 3)


def micro_f1(counts: np.ndarray) -> float:
    tp, npred, ngold = counts.sum(0)
    return 2 * tp / (npred + ngold) if npred + ngold else 0.0


def paired_delta_ci(ref: np.ndarray, other: np.ndarray, n_boot: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% interval of micro-F1(other) - micro-F1(ref), resampling the same records for both."""
    rng = np.random.default_rng(seed)
    n = len(ref)
    deltas = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        deltas.append(micro_f1(other[idx]) - micro_f1(ref[idx]))
    lo, hi = np.percentile(deltas, [2.5, 97.5])
    return float(lo), float(hi)


def f1_interval(counts: np.ndarray, n_boot: int = 1000, seed: int = 0) -> tuple[float, float]:
    """95% bootstrap interval of micro-F1, resampling records (a small sample's F1 is uncertain)."""
    rng = np.random.default_rng(seed)
    n = len(counts)
    f1s = [micro_f1(counts[rng.integers(0, n, n)]) for _ in range(n_boot)]
    lo, hi = np.percentile(f1s, [2.5, 97.5])
    return float(lo), float(hi)


def label_record_counts(gold: Sequence[Iterable[tuple]], pred: Sequence[Iterable[tuple]], labels: Iterable[str]) -> dict:
    """Per-record counts (``record_counts``) over ``labels`` ("micro") and for each label, as lists for JSON,
    so that two models' scores on the same records can be compared with a paired bootstrap."""
    labels = list(labels)
    out = {}
    for key, keep in [("micro", set(labels)), *((lab, {lab}) for lab in labels)]:
        g = [{x for x in r if x[2] in keep} for r in gold]
        p = [{x for x in r if x[2] in keep} for r in pred]
        out[key] = record_counts(g, p).tolist()
    return out
