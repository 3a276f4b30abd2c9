"""Training examples for the text model: windows, partial-label masks, length buckets.

A record is cut into windows of at most ``max_len`` characters at sentence
boundaries (never inside an entity). For each character the set of allowed BIO
tags is computed from the record's ``annotated`` categories: inside a gold span
only its tags; inside an ``unknown`` range anything; elsewhere ``O`` or any tag
of a category the source does not annotate (partial-label learning).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from tcm_desktop.schema import LABELS
from tcm_desktop.text.lexicon import Lexicon
from tcm_desktop.text.tagging import BREAKS, SOFT_BREAKS, model_char, tag_names

T = TypeVar("T")

PAD, UNK, MASK = 0, 1, 2
SPECIALS = ["[PAD]", "[UNK]", "[MASK]"]


class Vocab:
    """Character vocabulary with the model's one-to-one normalisation."""

    def __init__(self, chars: Sequence[str]) -> None:
        self.itos = list(SPECIALS) + [c for c in chars if c not in SPECIALS]
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    @classmethod
    def build(cls, texts: Sequence[str], min_count: int = 2) -> Vocab:
        from collections import Counter

        counts = Counter(model_char(c) for t in texts for c in t)
        return cls(sorted(c for c, n in counts.items() if n >= min_count))

    def encode(self, text: str) -> np.ndarray:
        return np.array([self.stoi.get(model_char(c), UNK) for c in text], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.itos)


@dataclass
class Example:
    source: str
    ids: np.ndarray  # [T]
    lex: np.ndarray  # [T, F] uint8
    allowed: np.ndarray  # [T, K] bool
    gold: np.ndarray  # [T] tag ids (O where unknown)


def window_bounds(text: str, spans: Sequence[tuple[int, int]], max_len: int) -> list[tuple[int, int]]:
    """Cut ``[0, len)`` into pieces of at most ``max_len``, preferring sentence ends.

    A cut never falls strictly inside a span (unless a span is longer than
    ``max_len`` itself).
    """
    inside = np.zeros(len(text) + 1, dtype=bool)
    for s, e in spans:
        inside[s + 1 : e] = True
    out: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    while start < n:
        if n - start <= max_len:
            out.append((start, n))
            break
        limit = start + max_len
        cut = None
        for breaks in (BREAKS, SOFT_BREAKS):
            for j in range(limit, start + max_len // 3, -1):
                if text[j - 1] in breaks and not inside[j]:
                    cut = j
                    break
            if cut:
                break
        if cut is None:
            cut = limit
            while cut > start + 1 and inside[cut]:
                cut -= 1
            if cut <= start + 1:
                cut = limit
        out.append((start, cut))
        start = cut
    return out


def parse_label_masks(items: Sequence[str]) -> dict[str, set[str]]:
    """``["ccks2019:BODY_PART", ...]`` -> ``{"ccks2019": {"BODY_PART"}}``; unknown labels are an error."""
    out: dict[str, set[str]] = {}
    for item in items:
        source, sep, label = item.partition(":")
        if not sep or label not in LABELS:
            raise ValueError(f"a label mask is SOURCE:LABEL with a schema label, got {item!r}")
        out.setdefault(source, set()).add(label)
    return out


def mask_labels(rec: dict, labels: set[str]) -> dict:
    """The record with ``labels`` treated as not annotated: their spans dropped, the categories left open.

    A public corpus whose span conventions contradict the schema's (CCKS marks the site inside
    ``腹痛`` as anatomy; cshan's CAU holds pulses and symptoms) then neither teaches nor scores
    those categories: the partial-label CRF lets any of their tags stand anywhere in its text.
    """
    if not labels:
        return rec
    return {**rec, "entities": [e for e in rec["entities"] if e["label"] not in labels],
            "annotated": [a for a in rec.get("annotated", []) if a not in labels]}


def record_examples(rec: dict, source: str, vocab: Vocab, lexicon: Lexicon | None, tags: Sequence[str], max_len: int) -> list[Example]:
    text = rec["text"]
    k = len(tags)
    tag_index = {t: i for i, t in enumerate(tags)}
    annotated = set(rec.get("annotated", []))
    base_allowed = np.zeros(k, dtype=bool)
    base_allowed[0] = True
    for t, i in tag_index.items():
        if t != "O" and t[2:] not in annotated:
            base_allowed[i] = True
    allowed = np.tile(base_allowed, (len(text), 1))
    gold = np.zeros(len(text), dtype=np.int64)
    for s, e in rec.get("unknown", []):
        allowed[s:e] = True
    for ent in rec["entities"]:
        s, e, lab = ent["start"], ent["end"], ent["label"]
        allowed[s:e] = False
        allowed[s, tag_index[f"B-{lab}"]] = True
        allowed[s + 1 : e, tag_index[f"I-{lab}"]] = True
        gold[s] = tag_index[f"B-{lab}"]
        gold[s + 1 : e] = tag_index[f"I-{lab}"]
    ids = vocab.encode(text)
    lex = lexicon.features(text) if lexicon is not None else np.zeros((len(text), 0), dtype=np.uint8)
    spans = [(e["start"], e["end"]) for e in rec["entities"]]
    out = []
    for s, e in window_bounds(text, spans, max_len):
        a = allowed[s:e].copy()
        # a window that starts inside a span: let its first tag be B or I
        if s > 0 and gold[s] != 0 and tags[gold[s]].startswith("I-"):
            a[0, tag_index["B-" + tags[gold[s]][2:]]] = True
        out.append(Example(source, ids[s:e], lex[s:e], a, gold[s:e]))
    return out


def length_buckets(examples: Sequence[T], max_tokens: int, shuffle: bool, seed: int = 0,
                   length: Callable[[T], int] = lambda e: len(e.ids)) -> Iterator[list[T]]:
    """Dynamic batch pruning for training: sort by length, pack under a token budget."""
    order = sorted(range(len(examples)), key=lambda i: length(examples[i]))
    batches: list[list[T]] = []
    cur: list[T] = []
    cur_max = 0
    for i in order:
        ex = examples[i]
        new_max = max(cur_max, length(ex))
        if cur and new_max * (len(cur) + 1) > max_tokens:
            batches.append(cur)
            cur, new_max = [], length(ex)
        cur.append(ex)
        cur_max = new_max
    if cur:
        batches.append(cur)
    if shuffle:
        random.Random(seed).shuffle(batches)
    yield from batches


def collate(batch: Sequence[Example], k: int, n_lex: int):
    """Pad a batch into numpy arrays: ids, lex, allowed, gold, mask."""
    t = max(len(e.ids) for e in batch)
    b = len(batch)
    ids = np.zeros((b, t), dtype=np.int64)
    lex = np.zeros((b, t, n_lex), dtype=np.float32)
    allowed = np.ones((b, t, k), dtype=bool)
    gold = np.zeros((b, t), dtype=np.int64)
    mask = np.zeros((b, t), dtype=bool)
    for i, e in enumerate(batch):
        n = len(e.ids)
        ids[i, :n] = e.ids
        if n_lex:
            lex[i, :n] = e.lex
        allowed[i, :n] = e.allowed
        gold[i, :n] = e.gold
        mask[i, :n] = True
    return ids, lex, allowed, gold, mask


__all__ = ["Vocab", "Example", "record_examples", "length_buckets", "collate", "window_bounds", "tag_names", "PAD", "UNK", "MASK"]
