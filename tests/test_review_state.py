"""The Qt-free review model: operations, statuses, undo via snapshots, audit, offset shifting on edits."""

from __future__ import annotations

import pytest
from desktop_samples import SAMPLE_TEXT, sample_record  # noqa: E402

from tcm_desktop.review_state import ReviewError, ReviewState  # noqa: E402
from tcm_desktop.structured import FoundEntity  # noqa: E402


def state() -> ReviewState:
    return ReviewState.from_record(sample_record("r1"))


def idx(st: ReviewState, text: str) -> int:
    return next(i for i, e in enumerate(st.entities) if e.text == text)


def test_relabel_marks_corrected_and_undo_restores():
    st = state()
    i = idx(st, "嗳气")
    before = [e.to_dict() for e in st.entities]
    edit = st.relabel(i, "SIGN")
    assert st.entities[i].label == "SYMPTOM"  # nothing changes until applied
    st.apply(edit)
    assert st.entities[i].label == "SIGN" and st.entities[i].status == "corrected"
    assert edit.audit() == {"action": "relabel",
                            "before": {"start": st.entities[i].start, "end": st.entities[i].end, "label": "SYMPTOM",
                                       "text": "嗳气", "assertion": "present", "status": "unreviewed"},
                            "after": {"start": st.entities[i].start, "end": st.entities[i].end, "label": "SIGN",
                                      "text": "嗳气", "assertion": "present", "status": "corrected"}}
    st.revert(edit)
    assert [e.to_dict() for e in st.entities] == before
    st.apply(edit)  # redo
    assert st.entities[i].label == "SIGN"
    assert [a["action"] for a in st.log] == ["relabel", "undo_relabel", "relabel"]


def test_relabel_same_label_keeps_status_and_unknown_label_refused():
    st = state()
    st.apply(st.relabel(0, "SYMPTOM"))
    assert st.entities[0].status == "unreviewed"
    with pytest.raises(ReviewError):
        st.relabel(0, "NOPE")
    with pytest.raises(ReviewError):
        st.relabel(999, "SIGN")


def test_relabel_clears_normalisation():
    st = state()
    i = idx(st, "柴胡")
    assert st.entities[i].normalized
    st.apply(st.relabel(i, "FORMULA"))
    assert st.entities[i].normalized == {}


def test_assertion_accept_accept_all():
    st = state()
    i = idx(st, "纳差")
    st.apply(st.set_assertion(i, "absent"))
    assert st.entities[i].assertion == "absent" and st.entities[i].status == "corrected"
    with pytest.raises(ReviewError):
        st.set_assertion(i, "maybe")
    st.apply(st.accept(0))
    assert st.entities[0].status == "accepted"
    st.apply(st.accept(i))  # accepting a corrected entity keeps 'corrected'
    assert st.entities[i].status == "corrected"
    edit = st.accept_all_remaining()
    st.apply(edit)
    c = st.counts()
    assert c["unreviewed"] == 0 and c["corrected"] == 1 and c["accepted"] == len(st) - 1
    assert edit.audit_after == {"accepted": len(st) - 2}
    st.revert(edit)
    assert st.counts()["unreviewed"] == len(st) - 2


def test_delete_and_add():
    st = state()
    n = len(st)
    i = idx(st, "嗳气")
    st.apply(st.delete(i))
    assert len(st) == n - 1 and all(e.text != "嗳气" for e in st.entities)
    s = SAMPLE_TEXT.index("嗳气")
    # selection with punctuation around is trimmed to the words
    edit = st.add(s - 1, s + 3, "SIGN")
    st.apply(edit)
    e = st.entities[edit.focus]
    assert (e.start, e.end, e.text, e.label, e.status, e.assertion) == (s, s + 2, "嗳气", "SIGN", "added", "present")
    assert [x.start for x in st.entities] == sorted(x.start for x in st.entities)
    with pytest.raises(ReviewError, match="重叠"):
        st.add(s, s + 1, "SYMPTOM")
    with pytest.raises(ReviewError):
        st.add(3, 3, "SYMPTOM")
    with pytest.raises(ReviewError):
        st.add(2, 3, "SYMPTOM")  # only "：" selected
    # changing an added entity keeps it 'added'
    st.apply(st.relabel(edit.focus, "SYMPTOM"))
    assert st.entities[edit.focus].status == "added"


def test_widen_and_narrow():
    st = ReviewState("头痛剧烈，无发热", [FoundEntity(0, 2, "SYMPTOM", "头痛"), FoundEntity(6, 8, "SYMPTOM", "发热")])
    st.apply(st.widen_right(0))
    st.apply(st.widen_right(0))
    assert st.entities[0].text == "头痛剧烈" and st.entities[0].status == "corrected"
    st.apply(st.narrow_right(0))
    assert st.entities[0].text == "头痛剧"
    st.apply(st.narrow_left(0))
    assert (st.entities[0].start, st.entities[0].text) == (1, "痛剧")
    st.apply(st.widen_left(0))
    with pytest.raises(ReviewError):
        st.widen_left(0)  # would leave the text
    st.apply(st.widen_left(1))  # 无发热
    with pytest.raises(ReviewError, match="重叠"):
        st.resize(1, 2, 8)
    with pytest.raises(ReviewError):
        st.resize(1, 7, 7)
    with pytest.raises(ReviewError):
        st.widen_right(1)


def test_navigation_and_lookup():
    st = ReviewState("头痛，发热", [FoundEntity(0, 2, "SYMPTOM", "头痛"), FoundEntity(3, 5, "SYMPTOM", "发热")])
    assert st.index_at(1) == 0 and st.index_at(2) == 0 and st.index_at(3) == 1 and st.index_at(5) == 1
    assert ReviewState("头痛，").index_at(0) is None
    assert st.next_index(None) == 0 and st.next_index(0) == 1 and st.next_index(1) == 0
    assert st.next_index(None, backwards=True) == 1 and st.next_index(0, backwards=True) == 1
    assert ReviewState("x").next_index(None) is None
    st.apply(st.accept(0))
    assert st.next_unreviewed(1) == 1 and st.next_unreviewed(None) == 1
    st.apply(st.accept(1))
    assert st.next_unreviewed(0) is None


def _two() -> ReviewState:
    text = "头痛，发热，咳嗽"
    return ReviewState(text, [FoundEntity(0, 2, "SYMPTOM", "头痛"), FoundEntity(3, 5, "SYMPTOM", "发热"),
                              FoundEntity(6, 8, "SYMPTOM", "咳嗽")])


def _check_consistent(st: ReviewState) -> None:
    for e in st.entities:
        assert st.text[e.start:e.end] == e.text


def test_text_insert_before_shifts_later_entities():
    st = _two()
    ch = st.replace_text("头痛，反复发热，咳嗽", 3)
    assert ch.delta == 2 and not ch.dropped
    assert [(e.start, e.end) for e in st.entities] == [(0, 2), (5, 7), (8, 10)]
    _check_consistent(st)


def test_insert_at_entity_boundaries_keeps_entity():
    st = _two()
    st.replace_text("头痛剧烈，发热，咳嗽", 2)  # right after 头痛
    assert [e.text for e in st.entities] == ["头痛", "发热", "咳嗽"]
    _check_consistent(st)
    st.replace_text("头痛剧烈，无发热，咳嗽", 5)  # right before 发热
    assert [e.text for e in st.entities] == ["头痛", "发热", "咳嗽"]
    _check_consistent(st)


def test_edit_inside_entity_drops_only_that_entity():
    st = _two()
    ch = st.replace_text("头痛，发低热，咳嗽", 4)
    assert [e.text for e in ch.dropped] == ["发热"]
    assert [e.text for e in st.entities] == ["头痛", "咳嗽"]
    _check_consistent(st)
    assert st.log[-1]["action"] == "text_edit_dropped"


def test_deletion_spanning_entities_drops_them_and_shifts_rest():
    st = _two()
    ch = st.replace_text("头痛，嗽", 3)  # deleted "发热，咳"
    assert [e.text for e in ch.dropped] == ["发热", "咳嗽"]
    st = _two()
    st.replace_text("头痛咳嗽")  # deleted "，发热，"
    assert [e.text for e in st.entities] == ["头痛", "咳嗽"]
    _check_consistent(st)


def test_hint_resolves_repeated_characters():
    st = ReviewState("痛痛，发热", [FoundEntity(1, 2, "SYMPTOM", "痛"), FoundEntity(3, 5, "SYMPTOM", "发热")])
    # typing 痛 at position 0 (before the entity at 1): without a hint the diff would place it after
    st.replace_text("痛痛痛，发热", 0)
    assert [(e.start, e.text) for e in st.entities] == [(2, "痛"), (4, "发热")]
    _check_consistent(st)


def test_no_change_and_to_record():
    st = state()
    ch = st.replace_text(SAMPLE_TEXT)
    assert ch.delta == 0 and not ch.dropped
    st.apply(st.accept(0))
    rec = st.to_record("r9")
    assert rec.id == "r9" and rec.entities[0].status == "accepted"
    assert rec.prescription.formula == ["柴胡疏肝散"] and rec.sections
    assert st.record.entities[0].status == "unreviewed"  # the engine's output is not mutated
