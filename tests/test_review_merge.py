"""Re-analysis keeps the doctor's decisions (property tests), and the review state's undoable text edits."""

from __future__ import annotations

from desktop_samples import SAMPLE_TEXT, sample_record
from hypothesis import given, settings
from hypothesis import strategies as st

from tcm_desktop.records import cli_commands
from tcm_desktop.records.database import Database
from tcm_desktop.review_merge import merge_reanalysis, merge_record, reanalyse_saved
from tcm_desktop.review_state import ReviewError, ReviewState
from tcm_desktop.structured import FoundEntity, StructuredRecord

LABELS = ("SYMPTOM", "SIGN", "HERB", "TIME")
STATUSES = ("unreviewed", "accepted", "corrected", "added")


@st.composite
def spans(draw, n_max: int = 12, length: int = 60, statuses=STATUSES):
    """Non-overlapping entities over a text of ``length`` characters."""
    cuts = sorted(draw(st.sets(st.integers(0, length), max_size=2 * n_max)))
    out = []
    for a, b in zip(cuts[::2], cuts[1::2], strict=False):
        if a < b:
            out.append(FoundEntity(a, b, draw(st.sampled_from(LABELS)), "x" * (b - a),
                                   draw(st.sampled_from(("present", "absent"))), draw(st.floats(0, 1)),
                                   {}, draw(st.sampled_from(statuses))))
    return out


def _overlap(a: FoundEntity, b: FoundEntity) -> bool:
    return a.start < b.end and b.start < a.end


@settings(max_examples=300, deadline=None)
@given(current=spans(), deleted=spans(statuses=("unreviewed",)), fresh=spans(statuses=("unreviewed",)))
def test_merge_keeps_reviewed_exactly_and_adds_only_untouched_suggestions(current, deleted, fresh):
    # a deleted suggestion is never also a current entity
    deleted = [d for d in deleted if not any(_overlap(d, c) for c in current)]
    m = merge_reanalysis(current, deleted, fresh)
    reviewed = [e for e in current if e.status != "unreviewed"]
    out = [e.to_dict() for e in m.entities]
    # every reviewed entity is in the result, unchanged
    for e in reviewed:
        assert e.to_dict() in out
    # the result is sorted and non-overlapping
    assert all(a.end <= b.start for a, b in zip(m.entities, m.entities[1:], strict=False))
    new = [e for e in m.entities if e.status == "unreviewed"]
    assert len(new) == m.suggested and m.kept == len(reviewed)
    for e in new:
        assert any(e.to_dict() == f.to_dict() for f in fresh)
        assert not any(_overlap(e, r) for r in reviewed)
        assert not any(_overlap(e, d) for d in deleted)  # deleted stays deleted
    # every fresh suggestion that touches nothing reviewed or deleted is offered
    for f in fresh:
        if not any(_overlap(f, x) for x in reviewed + deleted):
            assert f.to_dict() in out
    # merging the same output again changes nothing
    assert [e.to_dict() for e in merge_reanalysis(m.entities, deleted, fresh).entities] == out


def test_reanalyse_edit_is_one_undo_step_and_keeps_decisions():
    st_ = ReviewState.from_record(sample_record("r"))
    st_.apply(st_.accept(0))
    i = next(k for k, e in enumerate(st_.entities) if e.text == "嗳气")
    st_.apply(st_.relabel(i, "SIGN"))
    j = next(k for k, e in enumerate(st_.entities) if e.text == "纳差")
    st_.apply(st_.delete(j))
    before = [e.to_dict() for e in st_.entities]
    edit = st_.reanalyse(sample_record("r"))
    st_.apply(edit)
    texts = {e.text: e for e in st_.entities}
    assert texts["嗳气"].label == "SIGN" and texts["嗳气"].status == "corrected"
    assert st_.entities[0].status == "accepted"
    assert "纳差" not in texts  # deleted stays deleted
    st_.revert(edit)
    assert [e.to_dict() for e in st_.entities] == before
    st_.text = "other"
    try:
        st_.reanalyse(sample_record("r"))
    except ReviewError as exc:
        assert "文本" in str(exc)
    else:
        raise AssertionError("a result for another text must be refused")


def test_text_edit_undo_restores_dropped_entities_and_text():
    st_ = ReviewState.from_record(sample_record("r"))
    st_.apply(st_.accept(0))
    before_text, before = st_.text, [e.to_dict() for e in st_.entities]
    edit = st_.text_edit("")  # the whole text deleted
    st_.apply(edit)
    assert st_.entities == [] and len(edit.dropped) == len(before)
    st_.revert(edit)
    assert st_.text == before_text and [e.to_dict() for e in st_.entities] == before


def test_widen_never_crosses_sentence_punctuation():
    text = "脉结代。诊断：心悸"
    st_ = ReviewState(text, [FoundEntity(0, 3, "PULSE", "脉结代")])
    try:
        st_.widen_right(0)
    except ReviewError as exc:
        assert "标点" in str(exc) and exc.template and exc.values == ()
    else:
        raise AssertionError("widening into 。 must be refused")
    st2 = ReviewState("舌淡，苔白", [FoundEntity(3, 5, "COATING", "苔白")])
    try:
        st2.widen_left(0)
    except ReviewError:
        pass
    else:
        raise AssertionError("widening into ， must be refused")


class _Engine:
    """The sample's 'model' output, independent of the review."""

    model_version = "adapted-2"

    def structure(self, text: str, rid: str = "") -> StructuredRecord:
        rec = sample_record(rid, text)
        rec.model_version = self.model_version
        return rec


def test_db_reanalyse_keeps_every_reviewed_entity(tmp_path):
    db = Database(tmp_path / "r.sqlite3")
    rec = sample_record("rec1")
    st_ = ReviewState.from_record(rec)
    st_.apply(st_.accept_all_remaining())
    i = next(k for k, e in enumerate(st_.entities) if e.text == "嗳气")
    st_.apply(st_.relabel(i, "SIGN"))
    j = next(k for k, e in enumerate(st_.entities) if e.text == "纳差")
    st_.apply(st_.delete(j))
    s = SAMPLE_TEXT.index("加重")
    st_.apply(st_.add(s, s + 2, "SYMPTOM"))
    db.save_record(st_.to_record("rec1"))
    reviewed = [e.to_dict() for e in db.load_record("rec1").entities]  # as saved (derived fields recomputed)
    summaries = list(reanalyse_saved(db, _Engine()))
    assert summaries and summaries[0]["id"] == "rec1"
    out = db.load_record("rec1")
    assert out.model_version == "adapted-2"
    assert [e.to_dict() for e in out.entities] == reviewed  # all reviewed: nothing new may touch them
    assert all(e.text != "纳差" for e in out.entities)
    assert [a.action for a in db.actions("rec1")][-1] == "reanalyse"
    merged, m = merge_record(out, _Engine().structure(out.text, "rec1"))
    assert m.suggested == 0 and [e.to_dict() for e in merged.entities] == reviewed
    db.close()


def test_cli_db_reanalyse_keeps_reviews_and_reports_each_record(tmp_path):
    import io
    import json

    from tcm_desktop import cli
    from tcm_desktop.artifacts import ModelError

    path = tmp_path / "c.sqlite3"
    db = Database(path)
    st_ = ReviewState.from_record(sample_record("r1"))
    st_.apply(st_.accept(0))
    db.save_record(st_.to_record("r1"))
    db.save_record(sample_record("r2"))
    db.close()
    args = cli.build_parser().parse_args(["db", "reanalyse", "--db", str(path), "--id", "r1"])
    out, err = io.StringIO(), io.StringIO()
    assert cli_commands.cmd_reanalyse(args, out, err, engine_factory=lambda _m: _Engine()) == 0
    lines = [json.loads(x) for x in out.getvalue().splitlines()]
    assert [x["id"] for x in lines] == ["r1"] and lines[0]["kept"] == 1 and lines[0]["version"] == 2
    with Database(path) as db2:
        assert db2.load_record("r1").entities[0].status == "accepted"
        assert db2.load_record("r2").model_version == "fake-1"  # not asked for: untouched
    args = cli.build_parser().parse_args(["db", "reanalyse", "--db", str(path), "--id", "nope"])
    assert cli_commands.cmd_reanalyse(args, out, err, engine_factory=lambda _m: _Engine()) == 1
    assert "nope" in err.getvalue()

    def broken(_m):
        raise ModelError("model directory not found: /x")

    args = cli.build_parser().parse_args(["db", "reanalyse", "--db", str(path)])
    err = io.StringIO()
    assert cli_commands.cmd_reanalyse(args, io.StringIO(), err, engine_factory=broken) == 2
    assert err.getvalue().count("\n") == 1
