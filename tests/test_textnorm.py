"""Offset-keeping normalisation: model sees clean text, spans map back exactly."""

from __future__ import annotations

import pytest

from tcm_desktop.text.charnorm import normalize


def span_of(haystack: str, needle: str) -> tuple[int, int]:
    i = haystack.index(needle)
    return i, i + len(needle)


def test_full_width_ascii_becomes_half_width() -> None:
    n = normalize("柴胡１５ｇ，ＢＰ １５０／９５ｍｍＨｇ")
    assert n.text == "柴胡15g，BP 150/95mmHg"


def test_chinese_punctuation_is_kept() -> None:
    src = "无发热，咳嗽；舌红：苔黄！脉数？（先煎）"
    assert normalize(src).text == src


def test_line_ends_and_space_runs() -> None:
    n = normalize("主诉：头痛\r\n现病史：\t\t 头晕\r舌红\u3000\u3000苔白")
    assert n.text == "主诉：头痛\n现病史： 头晕\n舌红 苔白"


def test_spans_map_back_exactly_to_original() -> None:
    src = "ＢＰ：１５０／９５ｍｍＨｇ\r\n柴胡\u3000\u3000１０ｇ  白芍１５克"
    n = normalize(src)
    for needle in ("150/95mmHg", "10g", "白芍", "柴胡", "BP"):
        s, e = span_of(n.text, needle)
        os_, oe = n.to_original(s, e)
        assert normalize(src[os_:oe]).text == needle
    s, e = span_of(n.text, "10g")
    assert src[slice(*n.to_original(s, e))] == "１０ｇ"


def test_span_over_collapsed_space_covers_whole_run() -> None:
    src = "柴胡\u3000\u3000\u300010g"
    n = normalize(src)
    assert n.text == "柴胡 10g"
    assert n.to_original(0, 6) == (0, len(src))
    assert n.to_original(2, 3) == (2, 5)


def test_emoji_and_mixed_text_keep_offsets() -> None:
    src = "患者😀诉头痛👍🏻３天\r\n舌红"
    n = normalize(src)
    assert n.text == "患者😀诉头痛👍🏻3天\n舌红"
    s, e = span_of(n.text, "头痛")
    assert n.to_original(s, e) == span_of(src, "头痛")
    s, e = span_of(n.text, "3天")
    assert src[slice(*n.to_original(s, e))] == "３天"
    s, e = span_of(n.text, "舌红")
    assert n.to_original(s, e) == span_of(src, "舌红")


def test_crlf_maps_to_both_characters() -> None:
    src = "a\r\nb"
    n = normalize(src)
    assert n.text == "a\nb"
    assert n.to_original(1, 2) == (1, 3)
    assert n.to_original(2, 3) == (3, 4)


def test_from_original_inverts_to_original() -> None:
    src = "ＢＰ  １５０／９５\r\n头痛"
    n = normalize(src)
    for needle in ("头痛", "１５０／９５", "ＢＰ"):
        os_, oe = span_of(src, needle)
        s, e = n.from_original(os_, oe)
        assert n.to_original(s, e) == (os_, oe)


def test_empty_spans_and_bounds() -> None:
    n = normalize("ab  c")
    assert n.to_original(0, 0) == (0, 0)
    assert n.to_original(len(n.text), len(n.text)) == (5, 5)
    with pytest.raises(ValueError):
        n.to_original(2, 99)


def test_identity_for_clean_text() -> None:
    src = "主诉：反复胃脘胀痛3年。"
    n = normalize(src)
    assert n.text == src
    assert all(n.to_original(i, i + 1) == (i, i + 1) for i in range(len(src)))
