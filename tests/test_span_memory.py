"""The span-memory ablation's building blocks: what is remembered, and where it fills."""

from __future__ import annotations

from tcm_desktop.annotation import Record
from tcm_desktop.text.markup import parse_markup
from tcm_desktop.training.span_memory import build, fill, select


def rec(marked: str, rid: str) -> Record:
    text, ents = parse_markup(marked, rid)
    return Record(id=rid, text=text, entities=ents)


def test_memory_keeps_strings_annotated_every_time_and_drops_inconsistent_ones() -> None:
    records = [
        rec("因[受凉|CAUSE]后[咳嗽|SYMPTOM]", "a"),
        rec("[受凉|CAUSE]后加重，咳嗽已愈", "b"),  # 咳嗽 left unannotated once
    ]
    memory = build(records)
    assert memory["受凉"] == ("CAUSE", 2, 2)
    assert memory["咳嗽"] == ("SYMPTOM", 1, 2)
    assert select(memory, 2, 0.9) == {"受凉": "CAUSE"}
    assert select(memory, 1, 0.5) == {"受凉": "CAUSE", "咳嗽": "SYMPTOM"}


def test_fill_never_overlaps_a_predicted_span_and_prefers_longer_strings() -> None:
    text = "受凉后胃脘胀痛，胃脘不适"
    terms = {"受凉": "CAUSE", "胃脘胀痛": "SYMPTOM", "胃脘": "BODY_PART"}
    out = fill(text, [(0, 2, "SYMPTOM")], terms)
    assert (0, 2, "SYMPTOM") in out and (0, 2, "CAUSE") not in out
    assert (3, 7, "SYMPTOM") in out and (3, 5, "BODY_PART") not in out
    assert (8, 10, "BODY_PART") in out
