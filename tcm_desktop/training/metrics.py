"""Strict span-level precision / recall / F1, micro and macro, per category."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

Span = tuple[int, int, str]


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

    def prf(t: int, f_p: int, f_n: int) -> dict:
        p = t / (t + f_p) if t + f_p else 0.0
        r = t / (t + f_n) if t + f_n else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"p": p, "r": r, "f1": f, "support": t + f_n}

    per = {lab: prf(tp[lab], fp[lab], fn[lab]) for lab in labels}
    micro = prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    present = [v for v in per.values() if v["support"] > 0]
    macro = sum(v["f1"] for v in present) / len(present) if present else 0.0
    return {"micro": micro, "macro_f1": macro, "per_label": per}
