"""Python <-> Qt (UTF-16) offsets, checked against Qt's own count and a brute-force reference."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from tcm_desktop.ui.offsets import OffsetMap, py_to_qt, qt_to_py, utf16_len  # noqa: E402

TEXTS = ["", "头痛", "主诉：😀头痛𠮷，无发热🙂", "😀😀😀", "a𠮷b", "𠮷"]


def _reference_to_qt(text: str, py: int) -> int:
    return utf16_len(text[:py])


@pytest.mark.parametrize("text", TEXTS)
def test_round_trip_and_reference(text):
    m = OffsetMap(text)
    assert m.qt_length == utf16_len(text)
    for py in range(len(text) + 1):
        qt = m.to_qt(py)
        assert qt == _reference_to_qt(text, py)
        assert m.to_py(qt) == py


def test_bmp_only_is_identity():
    m = OffsetMap("舌淡红，苔薄白")
    assert [m.to_qt(i) for i in range(8)] == list(range(8))
    assert m.to_py(5) == 5


def test_inside_surrogate_pair_maps_to_pair_start():
    text = "a😀b"
    assert py_to_qt(text, 2) == 3  # after the emoji
    assert qt_to_py(text, 2) == 1  # between the two surrogates -> the emoji's start
    assert qt_to_py(text, 3) == 2


def test_agrees_with_qt_document():
    from PySide6.QtGui import QTextCursor, QTextDocument

    text = "主诉：😀头痛𠮷，无发热"
    doc = QTextDocument(text)
    assert doc.characterCount() - 1 == OffsetMap(text).qt_length
    m = OffsetMap(text)
    c = QTextCursor(doc)
    c.setPosition(m.to_qt(text.index("头痛")))
    c.setPosition(m.to_qt(text.index("头痛") + 2), QTextCursor.MoveMode.KeepAnchor)
    assert c.selectedText() == "头痛"
    c.setPosition(m.to_qt(text.index("𠮷")))
    c.setPosition(m.to_qt(text.index("𠮷") + 1), QTextCursor.MoveMode.KeepAnchor)
    assert c.selectedText() == "𠮷"
