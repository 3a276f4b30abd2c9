"""The structuring engine with a real (tiny) model: offsets, windows, batching, rules."""

from __future__ import annotations

import pytest

from tcm_desktop.schema import LABELS, SPAN_EDGE_FORBIDDEN
from tcm_desktop.text.batching import length_bucketed, naive_batches, padded_tokens
from tcm_desktop.text.engine import EngineError, StructuringEngine, core_pieces

RECORD = (
    "主诉：反复胃脘胀痛3年，加重1周。\n现病史：患者因饮食不节出现胃脘胀痛，嗳气，纳差，无反酸。既往高血压病史。\n"
    "舌脉：舌淡红，边有齿痕，苔薄白，脉弦细。\n诊断：胃脘痛（肝郁脾虚证）；慢性胃炎。\n治法：疏肝健脾。\n"
    "处方：柴胡疏肝散加减：柴胡10g，白芍15g，炙甘草6g。7剂，水煎服，日一剂。"
)


@pytest.fixture(scope="module")
def engine(tiny_model_dir) -> StructuringEngine:
    return StructuringEngine(tiny_model_dir)


def _check_spans(rec) -> None:
    prev = 0
    for e in rec.entities:
        assert e.label in LABELS
        assert rec.text[e.start:e.end] == e.text
        assert e.start >= prev, "spans must be flat and sorted"
        assert e.text[0] not in SPAN_EDGE_FORBIDDEN and e.text[-1] not in SPAN_EDGE_FORBIDDEN
        prev = e.end


def test_structure_returns_consistent_record(engine) -> None:
    rec = engine.structure(RECORD, "r1")
    assert rec.id == "r1" and rec.text == RECORD and rec.model_version == engine.version
    _check_spans(rec)
    assert {s.name for s in rec.sections} >= {"chief_complaint", "present_illness", "prescription"}


def test_offsets_survive_full_width_and_emoji(engine) -> None:
    text = "😀患者头痛２天，ＢＰ　150/90mmHg。\r\n舌红，苔黄腻。"
    rec = engine.structure(text)
    _check_spans(rec)


def test_long_record_of_20000_characters(engine) -> None:
    text = ((RECORD + "\n") * (20000 // len(RECORD) + 1))[:20000]
    rec = engine.structure(text)
    _check_spans(rec)
    pieces = engine._pieces([text])
    assert pieces[0].core_start == 0 and pieces[-1].core_end == 20000
    assert all(a.core_end == b.core_start for a, b in zip(pieces, pieces[1:]))
    assert all(p.end - p.start <= engine.ner.max_len for p in pieces)
    assert rec.entities and rec.entities[-1].end > 15000


def test_windows_match_whether_or_not_records_are_batched(tiny_model_dir) -> None:
    """FP32 results are exactly independent of batching (padding never leaks in)."""
    fp32 = StructuringEngine(tiny_model_dir, precision="fp32")
    texts = [("a", RECORD), ("b", "头痛2天，无发热。"), ("c", RECORD * 3)]
    together = list(fp32.structure_many(texts))
    alone = [fp32.structure(t, i) for i, t in texts]
    for x, y in zip(together, alone):
        assert [(e.start, e.end, e.label) for e in x.entities] == [(e.start, e.end, e.label) for e in y.entities]


def test_int8_batching_changes_little(engine) -> None:
    """INT8 dynamic quantization scales activations per batch, so a few low-confidence
    tags may differ with batch composition; the spans must still mostly agree."""
    texts = [("a", RECORD), ("b", "头痛2天，无发热。"), ("c", RECORD * 3)]
    together = {(r.id, e.start, e.end, e.label) for r in engine.structure_many(texts) for e in r.entities}
    alone = {(i, e.start, e.end, e.label) for i, t in texts for e in engine.structure(t, i).entities}
    assert len(together & alone) >= 0.8 * max(len(together), len(alone), 1)


def test_progress_and_cancel(engine) -> None:
    seen = []
    out = list(engine.structure_many([(str(i), RECORD) for i in range(5)], progress=lambda d, t: seen.append((d, t)), chunk=2))
    assert len(out) == 5 and seen[-1] == (5, 5)
    stopped = list(engine.structure_many([(str(i), RECORD) for i in range(5)], should_stop=lambda: True))
    assert stopped == []


def test_empty_text_is_an_error(engine) -> None:
    with pytest.raises(EngineError, match="empty"):
        engine.structure("  \n")


def test_core_pieces_cut_at_sentence_ends() -> None:
    text = "头痛。" * 100
    pieces = core_pieces(text, 50)
    assert pieces[0][0] == 0 and pieces[-1][1] == len(text)
    assert all(b - a <= 50 for a, b in pieces)
    assert all(text[b - 1] == "。" for a, b in pieces[:-1])
    assert all(p[1] == q[0] for p, q in zip(pieces, pieces[1:]))


def test_length_bucketing_pads_less_than_naive_batching() -> None:
    lengths = [5, 120, 7, 118, 6, 121, 8, 119] * 10
    smart = length_bucketed(lengths, lambda n: n, max_tokens=1024)
    naive = naive_batches(len(lengths), 8)
    assert sorted(i for b in smart for i in b) == list(range(len(lengths)))
    assert all(max(lengths[i] for i in b) * len(b) <= 1024 for b in smart)
    assert padded_tokens(smart, lengths) < 0.7 * padded_tokens(naive, lengths)
