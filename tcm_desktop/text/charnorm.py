"""Offset-keeping text normalisation for the model's input.

Doctors paste text from many editors: full-width digits and letters (``１５ｇ``,
``ＢＰ``), Windows line ends, runs of spaces and ideographic spaces used as
column separators. The model was trained on half-width ASCII and single spaces,
so it sees :attr:`NormalizedText.text`; every span it finds there is mapped
back with :meth:`NormalizedText.to_original`, because the engine reports
offsets into the text the doctor typed.

Chinese punctuation (，。；：！？（）) is kept full-width: it is what the
training data uses and what the model learnt sentence structure from.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass

#: Full-width forms (U+FF01..U+FF5E) kept as they are: the Chinese punctuation
#: the model was trained on, and brackets that stand for the Chinese ones.
KEEP_FULL_WIDTH = frozenset("，；：！？（）［］｛｝＂＇")

#: Characters collapsed (in runs) to one ASCII space. Line breaks are not here:
#: they end sentences and sections and are kept.
SPACE_CHARS = frozenset(" \t\u3000\u00a0\u2002\u2003\u2009\f\v")


def _half_width(ch: str) -> str:
    code = ord(ch)
    if 0xFF01 <= code <= 0xFF5E and ch not in KEEP_FULL_WIDTH:
        return chr(code - 0xFEE0)
    return ch


@dataclass(frozen=True)
class NormalizedText:
    """A normalised text with, per normalised character, its original range."""

    original: str
    text: str
    starts: tuple[int, ...]  # original start index of each normalised char
    ends: tuple[int, ...]  # original end index (exclusive) of each normalised char

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a ``[start, end)`` span of :attr:`text` to the original text."""
        if not (0 <= start <= end <= len(self.text)):
            raise ValueError(f"span [{start}:{end}] outside normalised text of length {len(self.text)}")
        if start == end:
            pos = self.starts[start] if start < len(self.starts) else len(self.original)
            return pos, pos
        return self.starts[start], self.ends[end - 1]

    def from_original(self, start: int, end: int) -> tuple[int, int]:
        """Map an original span onto :attr:`text` (the smallest covering span)."""
        if not (0 <= start <= end <= len(self.original)):
            raise ValueError(f"span [{start}:{end}] outside original text of length {len(self.original)}")
        # first normalised char whose original range ends after ``start``
        n_start = bisect_left(self.ends, start + 1)
        if start == end:
            return n_start, n_start
        # first normalised char whose original range starts at/after ``end``
        n_end = bisect_left(self.starts, end)
        return n_start, max(n_start, n_end)


def normalize(text: str) -> NormalizedText:
    """Normalise ``text`` for the model and keep a map back to ``text``."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "\r":
            j = i + 2 if i + 1 < n and text[i + 1] == "\n" else i + 1
            out.append("\n")
            starts.append(i)
            ends.append(j)
            i = j
            continue
        if ch in SPACE_CHARS:
            j = i + 1
            while j < n and text[j] in SPACE_CHARS:
                j += 1
            out.append(" ")
            starts.append(i)
            ends.append(j)
            i = j
            continue
        out.append(_half_width(ch))
        starts.append(i)
        ends.append(i + 1)
        i += 1
    return NormalizedText(text, "".join(out), tuple(starts), tuple(ends))
