"""Our spans mapped back to a public corpus's own conventions, so its published scores compare."""

from __future__ import annotations

from collections import Counter

import pytest

from tcm_desktop.training.corpus import tidy
from tcm_desktop.training.evaluate import ccks_exam_type, ccks_span_edges


@pytest.mark.parametrize(
    ("text", "gold"),
    [
        ("病理示：（结肠）中分化腺癌，溃疡型", "（结肠）中分化腺癌"),
        ("门诊拟食管癌（T3N2M0IIIB期）收住", "食管癌（T3N2M0IIIB期）"),
        ("行直肠癌根治术(DIXON)。术后", "直肠癌根治术(DIXON)"),
        ("另送(胃右动脉旁）淋巴结1/12个", "(胃右动脉旁）淋巴结"),
    ],
)
def test_a_bracket_whose_partner_is_inside_comes_back_after_the_corpus_trims_it(text: str, gold: str) -> None:
    s = text.index(gold)
    e = s + len(gold)
    (ent,), _ = tidy(text, [(s, e, "WM_DISEASE")], Counter(), "ccks2019")
    assert (ent.start, ent.end) != (s, e)  # our schema never starts or ends a span with a bracket
    assert ccks_span_edges(text, ent.start, ent.end) == (s, e)


@pytest.mark.parametrize(
    ("text", "mention"),
    [
        ("诊断：胃癌（术后）", "胃癌"),  # balanced: the bracket after it is not its own
        ("（左）附件", "附件"),
        ("查血（WBC 正常", "WBC"),
        ("（结肠）中分化腺癌", "（结肠）中分化腺癌"),
    ],
)
def test_a_span_without_an_unmatched_bracket_keeps_its_edges(text: str, mention: str) -> None:
    s = text.index(mention)
    assert ccks_span_edges(text, s, s + len(mention)) == (s, s + len(mention))


def test_an_unmatched_bracket_is_not_closed_by_a_character_that_is_not_its_partner() -> None:
    text = "食管癌（T3N2M0期，收住"
    assert ccks_span_edges(text, 0, text.index("，")) == (0, text.index("，"))


def test_exam_type_splits_imaging_from_laboratory() -> None:
    assert ccks_exam_type("上腹部CT") == "影像检查"
    assert ccks_exam_type("HCT") == "实验室检验"
    assert ccks_exam_type("心电图") == "影像检查"
    assert ccks_exam_type("血常规") == "实验室检验"
