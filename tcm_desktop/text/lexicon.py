"""Lexicon matching at run time: per-character word-boundary features.

Each character gets, for every lexicon category, four bits saying whether a
lexicon word of that category Begins, is in the Middle of, Ends, or is a
Single-character word at it (SoftLexicon-style BMES features). The word lists
travel inside the model artifact (``lexicon.json``), so the app needs no
shared data. Pure Python + numpy: no torch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

BMES = ("B", "M", "E", "S")


class Lexicon:
    """Per-category term sets and a fast longest-first matcher."""

    def __init__(self, terms: Mapping[str, Iterable[str]], max_len: int = 16) -> None:
        self.categories: tuple[str, ...] = tuple(terms)
        self.max_len = max_len
        self._by_len: dict[int, dict[str, int]] = {}
        self._terms: dict[str, frozenset[str]] = {}
        for ci, cat in enumerate(self.categories):
            words = frozenset(t for t in terms[cat] if 1 <= len(t) <= max_len)
            self._terms[cat] = words
            for w in words:
                self._by_len.setdefault(len(w), {})
                self._by_len[len(w)][w] = self._by_len[len(w)].get(w, 0) | (1 << ci)
        self._lengths = sorted(self._by_len, reverse=True)

    @property
    def feature_dim(self) -> int:
        return 4 * len(self.categories)

    def terms(self, category: str) -> frozenset[str]:
        return self._terms.get(category, frozenset())

    def matches(self, text: str) -> list[tuple[int, int, int]]:
        """Every (start, end, category bitmask) where a lexicon word occurs."""
        out: list[tuple[int, int, int]] = []
        n = len(text)
        for length in self._lengths:
            table = self._by_len[length]
            for i in range(0, n - length + 1):
                mask = table.get(text[i : i + length])
                if mask:
                    out.append((i, i + length, mask))
        return out

    def features(self, text: str) -> np.ndarray:
        """A ``(len(text), 4 * n_categories)`` uint8 matrix of BMES bits."""
        feats = np.zeros((len(text), self.feature_dim), dtype=np.uint8)
        for start, end, mask in self.matches(text):
            for ci in range(len(self.categories)):
                if not mask >> ci & 1:
                    continue
                base = 4 * ci
                if end - start == 1:
                    feats[start, base + 3] = 1
                else:
                    feats[start, base] = 1
                    feats[start + 1 : end - 1, base + 1] = 1
                    feats[end - 1, base + 2] = 1
        return feats

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
