"""Python-str offsets <-> Qt (UTF-16) positions: the one place the two counts meet.

The core counts code points; ``QTextCursor``/``QTextDocument`` count UTF-16
units, so every character outside the Basic Multilingual Plane (emoji, rare
CJK Extension B characters such as 𠮷) takes two Qt positions. Converting
at the widget boundary, here only, keeps every stored offset in Python units.
Qt-free so it is tested without a display.
"""

from __future__ import annotations

from bisect import bisect_right


class OffsetMap:
    """Conversion tables for one text; O(1) when the text has no astral characters."""

    def __init__(self, text: str) -> None:
        self.text = text
        # Python indices of astral characters, in order; each adds one extra UTF-16 unit after it.
        self._astral = [i for i, ch in enumerate(text) if ord(ch) > 0xFFFF]
        # Qt position of each astral character's first unit.
        self._astral_qt = [i + k for k, i in enumerate(self._astral)]

    def to_qt(self, py: int) -> int:
        """Qt position of Python index ``py`` (0..len(text))."""
        if not self._astral:
            return py
        return py + bisect_right(self._astral, py - 1)

    def to_py(self, qt: int) -> int:
        """Python index of Qt position ``qt``; a position inside a surrogate pair maps to the pair's start."""
        if not self._astral:
            return qt
        k = bisect_right(self._astral_qt, qt - 1)  # astral chars starting before qt
        if k and self._astral_qt[k - 1] == qt - 1:  # qt points at the low surrogate
            return self._astral[k - 1]
        return qt - k

    @property
    def qt_length(self) -> int:
        return len(self.text) + len(self._astral)


def py_to_qt(text: str, py: int) -> int:
    return OffsetMap(text).to_qt(py)


def qt_to_py(text: str, qt: int) -> int:
    return OffsetMap(text).to_py(qt)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
