"""Each converter on the real shared files, and the validation of every output record."""

from __future__ import annotations

import json

import pytest

from tcm_desktop.annotation import Entity, Record, validate_record
from tcm_desktop.schema import LABELS
from tcm_desktop.text.lexicon import Lexicon
from tcm_desktop.training.corpus import CorpusBuilder, Refiner, read_bio, split_of, tidy

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def builder(shared_data) -> CorpusBuilder:
    return CorpusBuilder(shared_data)


@pytest.fixture(scope="module")
def built(builder, tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    stats = builder.build(out)
    return out, stats


def _records(out, source, split):
    with open(out / source / f"{split}.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_every_output_record_is_valid(built) -> None:
    out, stats = built
    n = 0
    for source in stats["sources"]:
        for split in ("train", "dev", "test"):
            for d in _records(out, source, split):
                rec = Record.from_dict(d)
                validate_record(rec)
                for e in rec.entities:
                    assert e.label in LABELS
                for s, e in d["unknown"]:
                    assert 0 <= s < e <= len(d["text"])
                n += 1
    assert n > 18000


def test_official_test_splits_are_kept_and_deduplicated(built, shared_data) -> None:
    out, stats = built
    src = stats["sources"]
    assert src["ccks2019"]["test"]["records"] == 379
    jy_test = read_bio(shared_data / "text" / "jyroy_tcm_ner10" / "medical.test", " ")
    assert src["jyroy"]["test"]["records"] == len(jy_test) - stats["tidy"]["jyroy: test sentence also in train dropped"]
    for source in ("jyroy", "cshan", "ccks2019"):
        train = {d["text"] for d in _records(out, source, "train")}
        assert not any(d["text"] in train for d in _records(out, source, "test"))


def test_pseudo_labelled_dataset2_test_file_is_never_used(built, shared_data) -> None:
    """Only the 1,000 gold documents (ids 0-999) are used; the pseudo-labelled ones are 1000+."""
    out, stats = built
    raw = (shared_data / "text/xuanlai_tcm_ner/Dataset2/test.utf8.json").read_text(encoding="utf-8")
    assert "1000" in raw  # the pseudo-labelled file holds ids from 1000 on
    ids = [int(d["id"].rsplit("-", 1)[1]) for split in ("train", "dev", "test") for d in _records(out, "xuanlai_d2", split)]
    assert len(ids) == 1000 and max(ids) < 1000
    assert stats["sources"]["xuanlai_d2"]["dev"]["records"] == 150


def test_jyroy_clinical_findings_become_tongue_coating_pulse(built) -> None:
    out, stats = built
    ents = [(d["text"][e["start"]:e["end"]], e["label"]) for d in _records(out, "jyroy", "train") for e in d["entities"]]
    assert ("口苦", "SYMPTOM") in ents
    labels = {lab for t, lab in ents if t.startswith("脉")}
    assert labels == {"PULSE"}
    assert stats["rules"]["jyroy 临床表现 -> PULSE"] > 50


def test_cshan_first_sentence_converted(builder, shared_data) -> None:
    text, spans = read_bio(shared_data / "text" / "cshan_tcmner" / "train.txt", ",")[0]
    assert len(text) > 0
    conv = next(c for split, c in builder.cshan() if c.record.id == "cshan-train-0")
    assert conv.record.text == text


def test_ccks_entities_keep_offsets(builder) -> None:
    split, conv = next(iter(builder.ccks2019()))
    assert conv.record.entities
    for e in conv.record.entities:
        assert e.label in ("WM_DISEASE", "BODY_PART", "THERAPY", "WM_DRUG", "EXAM")


def test_dataset1_nested_spans_resolved_longest_first(builder) -> None:
    convs = [c for _, c in builder.xuanlai_d1()]
    rec = next(c.record for c in convs if c.record.text.startswith("大黄附子汤以大黄"))
    first = rec.entities[0]
    assert (rec.text[first.start:first.end], first.label) == ("大黄附子汤", "FORMULA")


def test_refiner_rules() -> None:
    lex = Lexicon({"TCM_DISEASE": ["消渴"], "WM_DISEASE": ["糖尿病"], "SYNDROME": ["肝郁脾虚"], "SYMPTOM": ["头痛"]})
    r = Refiner(lex)
    assert r.finding("舌红苔黄腻", 10, "t") == [(10, 12, "TONGUE"), (12, 15, "COATING")]
    assert r.finding("脉弦细", 0, "t") == [(0, 3, "PULSE")]
    assert r.finding("头痛", 0, "t") is None
    assert r.disease("消渴", "d") == "TCM_DISEASE"
    assert r.disease("慢性胃炎", "d") == "WM_DISEASE"
    assert r.disease("血压者", "d") is None
    assert r.indication("肝郁脾虚", 0, "i") == [(0, 4, "SYNDROME")]
    assert r.counts["i -> SYNDROME"] == 1


def test_tidy_trims_and_resolves_overlaps() -> None:
    from collections import Counter

    c: Counter = Counter()
    ents, _ = tidy("，头痛发热。", [(0, 3, "SYMPTOM"), (1, 5, "SYMPTOM"), (5, 6, "TIME")], c, "s")
    assert ents == [Entity(1, 5, "SYMPTOM")]
    assert c["s: empty span dropped"] == 1 and c["s: overlapping shorter span dropped"] == 1


def test_split_of_is_deterministic() -> None:
    assert split_of("abc", dev=10, test=10) == split_of("abc", dev=10, test=10)
    splits = [split_of(str(i), dev=10, test=10) for i in range(2000)]
    assert 150 < splits.count("test") < 250 and 150 < splits.count("dev") < 250
