"""Lexicon matching at run time: per-character word-boundary features.

Each character gets, for every lexicon category, four bits saying whether a
lexicon word of that category Begins, is in the Middle of, Ends, or is a
Single-character word at it (SoftLexicon-style BMES features). The word lists
travel inside the model artifact (``lexicon.json``), so the app needs no
shared data. Matching is one Aho-Corasick pass over the text (pyahocorasick,
a C automaton) instead of a dictionary probe per position and word length, and
the bits are set with numpy; no torch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import ahocorasick
import numpy as np

BMES = ("B", "M", "E", "S")


class Lexicon:
    """Per-category term sets and a fast longest-first matcher."""

    def __init__(self, terms: Mapping[str, Iterable[str]], max_len: int = 16) -> None:
        self.categories: tuple[str, ...] = tuple(terms)
        self.max_len = max_len
        self._terms: dict[str, frozenset[str]] = {}
        masks: dict[str, int] = {}
        for ci, cat in enumerate(self.categories):
            words = frozenset(t for t in terms[cat] if 1 <= len(t) <= max_len)
            self._terms[cat] = words
            for w in words:
                masks[w] = masks.get(w, 0) | (1 << ci)
        self._automaton = ahocorasick.Automaton()
        for w, mask in masks.items():
            self._automaton.add_word(w, (len(w), mask))
        if masks:
            self._automaton.make_automaton()
        # per-category bit of each mask value, as a [n_masks, n_categories] table
        self._mask_ids = {m: i for i, m in enumerate(sorted(set(masks.values())))}
        self._mask_bits = np.array(
            [[m >> ci & 1 for ci in range(len(self.categories))] for m in self._mask_ids], dtype=bool
        ).reshape(len(self._mask_ids), len(self.categories))

    @property
    def feature_dim(self) -> int:
        return 4 * len(self.categories)

    def terms(self, category: str) -> frozenset[str]:
        return self._terms.get(category, frozenset())

    def matches(self, text: str) -> list[tuple[int, int, int]]:
        """Every (start, end, category bitmask) where a lexicon word occurs, longest words first."""
        if not self._mask_ids:
            return []
        out = [(end + 1 - n, end + 1, mask) for end, (n, mask) in self._automaton.iter(text)]
        out.sort(key=lambda m: (m[0] - m[1], m[0]))
        return out

    def features(self, text: str) -> np.ndarray:
        """A ``(len(text), 4 * n_categories)`` uint8 matrix of BMES bits."""
        n, n_cat = len(text), len(self.categories)
        feats = np.zeros((n, n_cat, 4), dtype=np.uint8)
        if not n or not self._mask_ids:
            return feats.reshape(n, 4 * n_cat)
        found = [(end, length, self._mask_ids[mask]) for end, (length, mask) in self._automaton.iter(text)]
        if not found:
            return feats.reshape(n, 4 * n_cat)
        ends, lengths, mids = (np.array(c, dtype=np.int64) for c in zip(*found))
        ends += 1
        starts = ends - lengths
        bits = self._mask_bits[mids]  # [matches, categories]
        single = lengths == 1
        # S: single-character words
        r, c = np.nonzero(bits & single[:, None])
        feats[starts[r], c, 3] = 1
        multi = bits & ~single[:, None]
        r, c = np.nonzero(multi)
        feats[starts[r], c, 0] = 1
        feats[ends[r] - 1, c, 2] = 1
        # M: inside (start, end - 1) of a longer word, via a difference array per category
        long_ = lengths[r] > 2
        if long_.any():
            r, c = r[long_], c[long_]
            diff = np.zeros((n + 1, n_cat), dtype=np.int32)
            np.add.at(diff, (starts[r] + 1, c), 1)
            np.add.at(diff, (ends[r] - 1, c), -1)
            feats[:, :, 1] = np.cumsum(diff[:n], axis=0) > 0
        return feats.reshape(n, 4 * n_cat)

    def with_extra(self, terms: Iterable[tuple[str, str]]) -> Lexicon:
        """A copy with extra ``(term, category)`` pairs (the clinic dictionary).

        Only the model's own categories can be fed: a term of another category
        has no feature columns and is ignored here (the dictionary rule still
        proposes it). The feature width is unchanged, so the model runs as is.
        """
        merged = {c: set(self._terms[c]) for c in self.categories}
        for term, cat in terms:
            if cat in merged:
                merged[cat].add(term)
        return Lexicon(merged, self.max_len)

    def to_json(self) -> dict:
        return {"max_len": self.max_len, "terms": {c: sorted(self._terms[c]) for c in self.categories}}

    @classmethod
    def from_json(cls, data: Mapping) -> Lexicon:
        return cls(data["terms"], int(data.get("max_len", 16)))

    @classmethod
    def load(cls, path: str | Path) -> Lexicon:
        return cls.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


def lookup(lexicon: Lexicon, text: str, categories: Sequence[str]) -> str | None:
    """The first of ``categories`` whose term list holds ``text`` exactly."""
    for cat in categories:
        if text in lexicon.terms(cat):
            return cat
    return None
