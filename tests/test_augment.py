"""Mention replacement must keep every label on the right characters and leave the context untouched."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from tcm_desktop.training.augment import REPLACEABLE, mention_pool, replace_mentions

RECORDS = [
    {"text": "因受凉后出现头痛，痛引左肩背。", "entities": [
        {"start": 1, "end": 3, "label": "CAUSE"}, {"start": 6, "end": 8, "label": "SYMPTOM"},
        {"start": 11, "end": 14, "label": "BODY_PART"}], "annotated": ["CAUSE", "SYMPTOM", "BODY_PART"]},
    {"text": "每于情志不畅后胃脘胀痛，放射至右胁肋部。黄芪30g", "entities": [
        {"start": 2, "end": 6, "label": "CAUSE"}, {"start": 7, "end": 11, "label": "SYMPTOM"},
        {"start": 15, "end": 19, "label": "BODY_PART"}, {"start": 20, "end": 22, "label": "HERB"},
        {"start": 22, "end": 25, "label": "DOSAGE"}], "annotated": ["CAUSE", "SYMPTOM", "BODY_PART", "HERB", "DOSAGE"]},
]
POOL = mention_pool(RECORDS)


def _plain(rec: dict) -> list[str]:
    """The text between entities, in order."""
    out, pos = [], 0
    for e in sorted(rec["entities"], key=lambda e: e["start"]):
        out.append(rec["text"][pos : e["start"]])
        pos = e["end"]
    return out + [rec["text"][pos:]]


def test_pool_holds_distinct_strings_of_replaceable_labels_only() -> None:
    assert POOL["CAUSE"] == ["受凉", "情志不畅"]
    assert POOL["BODY_PART"] == ["右胁肋部", "左肩背"]
    assert "DOSAGE" not in POOL and "HERB" not in POOL  # DOSAGE is not replaceable; one herb is no choice


def test_probability_zero_gives_the_same_record() -> None:
    rec = RECORDS[1]
    assert replace_mentions(rec, POOL, 0.0, random.Random(1)) == rec


def test_probability_one_swaps_every_mention_that_has_an_alternative() -> None:
    out = replace_mentions(RECORDS[0], POOL, 1.0, random.Random(0))
    strings = {e["label"]: out["text"][e["start"] : e["end"]] for e in out["entities"]}
    assert strings["CAUSE"] in POOL["CAUSE"] and strings["BODY_PART"] in POOL["BODY_PART"]
    assert _plain(out) == _plain(RECORDS[0])


@settings(max_examples=200, deadline=None)
@given(idx=st.sampled_from([0, 1]), p=st.floats(0, 1), seed=st.integers(0, 10_000))
def test_labels_stay_on_their_strings_and_context_is_kept(idx: int, p: float, seed: int) -> None:
    rec = RECORDS[idx]
    before = [dict(e) for e in rec["entities"]]
    out = replace_mentions(rec, POOL, p, random.Random(seed))
    assert rec["entities"] == before  # the input is not changed
    assert [e["label"] for e in out["entities"]] == [e["label"] for e in rec["entities"]]
    assert _plain(out) == _plain(rec)
    for old, new in zip(rec["entities"], out["entities"]):
        s_old = rec["text"][old["start"] : old["end"]]
        s_new = out["text"][new["start"] : new["end"]]
        if old["label"] in REPLACEABLE and old["label"] in POOL:
            assert s_new in POOL[old["label"]]
        else:
            assert s_new == s_old


def test_a_record_with_unknown_ranges_is_left_alone() -> None:
    rec = {**RECORDS[0], "unknown": [[0, 2]]}
    assert replace_mentions(rec, POOL, 1.0, random.Random(0)) is rec
