"""Property-based tests (hypothesis): the input reader, derived data after edits, the record service vs a model."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from tcm_desktop.records.database import Database
from tcm_desktop.records.inputs import InputRecord, records_from_text
from tcm_desktop.records.service import RecordService
from tcm_desktop.review_state import ReviewState
from tcm_desktop.structured import FoundEntity, StructuredRecord
from tcm_desktop.text.sections import find_sections

CHARS = st.sampled_from(list("主诉头痛发热无咳嗽舌淡红苔白脉弦处方柴胡10g，。：\n诊断胃脘胀"))
TEXT = st.text(CHARS, min_size=1, max_size=60).filter(lambda s: s.strip())

# -- the input reader -----------------------------------------------------------------------------
GOOD = st.builds(lambda i, t, p: {"id": f"id{i}", "text": t, **({"patient": p} if p else {})},
                 st.integers(0, 10**6), TEXT, st.one_of(st.none(), st.sampled_from(["王小明", "李四"])))
BAD = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20).filter(
        lambda s: s.strip() and "\n" not in s and "\r" not in s and not _is_record(s)),
    st.just('{"id": "x"}'), st.just('{"text": 5}'), st.just('{"id": "y", "text": "   "}'), st.just("[1, 2]"),
    st.just('{"id": [1], "text": "头痛"}'), st.just('{"id": "z", "text": "头痛", "patient": 7}'),
)


def _is_record(s: str) -> bool:
    try:
        d = json.loads(s)
    except (json.JSONDecodeError, RecursionError):
        return False
    return isinstance(d, dict) and isinstance(d.get("text"), str)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.booleans(), GOOD, BAD), min_size=1, max_size=15))
def test_every_good_line_imports_and_every_bad_line_is_named(lines):
    rows, expect_good, expect_bad = [], [], []
    for n, (good, g, b) in enumerate(lines, 1):
        if good:
            rows.append(json.dumps(g, ensure_ascii=False))
            expect_good.append(g)
        else:
            rows.append(b)
            expect_bad.append(n)
    problems: list[str] = []
    got = list(records_from_text("f.jsonl", "\n".join(rows), as_jsonl=True, source="/s/f.jsonl", stem="f",
                                 problems=problems))
    assert [(r.external_id, r.text, r.patient) for r in got] == [(g["id"], g["text"], g.get("patient")) for g in
                                                                 expect_good]
    assert all(r.source == "/s/f.jsonl" for r in got)
    assert [int(p.split(":")[1]) for p in problems] == expect_bad  # each bad line named by its number


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=1, max_size=200))
def test_bytes_are_read_or_named_never_raise(data):
    from tcm_desktop.records.inputs import read_file

    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "x.jsonl"
        f.write_bytes(data)
        problems: list[str] = []
        got = list(read_file(f, problems, name="x.jsonl"))
        assert got or problems
        assert all(p.startswith("x.jsonl") for p in problems)


# -- derived data follows the doctor's edits ------------------------------------------------------------
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT, st.data())
def test_after_any_edit_entities_sections_and_prescription_match_the_text(text, data):
    ents = []
    pos = 0
    while pos < len(text) - 1 and len(ents) < 4:
        s = data.draw(st.integers(pos, len(text) - 1))
        e = data.draw(st.integers(s + 1, min(len(text), s + 4)))
        ents.append(FoundEntity(s, e, data.draw(st.sampled_from(["SYMPTOM", "HERB", "TONGUE"])), text[s:e]))
        pos = e
    state = ReviewState.from_record(StructuredRecord("r", text, ents))
    a = data.draw(st.integers(0, len(text)))
    b = data.draw(st.integers(a, len(text)))
    new = text[:a] + data.draw(st.text(CHARS, max_size=8)) + text[b:]
    state.replace_text(new)
    rec = state.to_record("r")
    assert rec.text == new
    for e in rec.entities:
        assert 0 <= e.start < e.end <= len(new) and new[e.start : e.end] == e.text
    assert [(s.name, s.start, s.end) for s in rec.sections] == [(s.name, s.start, s.end) for s in find_sections(new)]
    starts = {e.start for e in rec.entities}
    for item in rec.prescription.items:
        assert item.entity_start == -1 or item.entity_start in starts


# -- the record service against a simple model ------------------------------------------------------------
class ServiceModel(RuleBasedStateMachine):
    """Random save / edit / import / delete / undo sequences; the database must agree with a dict model."""

    saved = Bundle("saved")

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.db = Database(Path(self.tmp.name) / "m.sqlite3")
        self.svc = RecordService(self.db)
        self.model: dict[str, list[str]] = {}  # internal id -> texts of its versions
        self.imports: dict[tuple[str, str, str], str] = {}  # (source, external id, text) -> internal id

    def teardown(self) -> None:
        self.db.close()
        self.tmp.cleanup()

    @rule(target=saved, text=TEXT)
    def save_new(self, text):
        res = self.svc.save(StructuredRecord("", text))
        assert res.created and res.version == 1
        self.model[res.record_id] = [text]
        return res.record_id

    @rule(target=saved, ext=st.sampled_from(["v1", "v2"]), src=st.sampled_from(["/a.jsonl", "/b.jsonl"]), text=TEXT)
    def import_one(self, ext, src, text):
        res = self.svc.store_import(InputRecord(ext, text, src), StructuredRecord(ext, text))
        key = (src, ext, text)
        if key in self.imports and self.imports[key] in self.model:
            assert res.unchanged and res.record_id == self.imports[key]
        else:
            assert res.created and res.record_id not in self.model
            self.model[res.record_id] = [text]
            self.imports[key] = res.record_id
        return res.record_id

    @rule(rid=saved, text=TEXT)
    def edit(self, rid, text):
        if rid not in self.model:
            return
        res = self.svc.save(StructuredRecord(rid, text))
        if text == self.model[rid][-1]:
            assert res.unchanged  # saving the same record again makes no version
        else:
            self.model[rid].append(text)
        assert res.version == len(self.model[rid])

    @rule(rid=saved)
    def undo(self, rid):
        """Undo = save the previous version's text again (a new version, history kept)."""
        if rid not in self.model or len(self.model[rid]) < 2:
            return
        prev = self.svc.open(rid, len(self.model[rid]) - 1).record
        res = self.svc.save(StructuredRecord(rid, prev.text, prev.entities))
        if prev.text != self.model[rid][-1]:
            self.model[rid].append(prev.text)
        assert res.version == len(self.model[rid])

    @rule(rid=saved)
    def delete(self, rid):
        if rid not in self.model:
            return
        self.svc.delete(rid)
        del self.model[rid]

    @invariant()
    def agrees(self):
        assert set(self.db.record_ids()) == set(self.model)
        for rid, texts in self.model.items():
            assert self.svc.open(rid).record.text == texts[-1]
            assert [v["version"] for v in self.db.versions(rid)] == list(range(1, len(texts) + 1))


ServiceModel.TestCase.settings = settings(max_examples=25, stateful_step_count=15, deadline=None)
test_record_service_matches_model = ServiceModel.TestCase
