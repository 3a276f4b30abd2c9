"""Per-source label masks: a public corpus's category whose conventions contradict the schema is left open."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")

from tcm_desktop.text.tagging import tag_names  # noqa: E402
from tcm_desktop.training.ner_data import Vocab, mask_labels, parse_label_masks, record_examples  # noqa: E402
from tcm_desktop.training.train_ner import load_corpus  # noqa: E402

CCKS_LIKE = {
    "text": "无腹痛，胃体见溃疡。",
    "entities": [{"start": 1, "end": 2, "label": "BODY_PART"}, {"start": 4, "end": 6, "label": "BODY_PART"},
                 {"start": 7, "end": 9, "label": "WM_DISEASE"}],
    "annotated": ["WM_DISEASE", "BODY_PART", "EXAM"],
}


def test_parse_label_masks_groups_labels_by_source_and_refuses_what_the_schema_lacks() -> None:
    assert parse_label_masks(["ccks2019:BODY_PART", "cshan:CAUSE", "ccks2019:EXAM"]) == {
        "ccks2019": {"BODY_PART", "EXAM"}, "cshan": {"CAUSE"}}
    assert parse_label_masks([]) == {}
    for bad in ("ccks2019", "ccks2019:ANATOMY", ":"):
        with pytest.raises(ValueError):
            parse_label_masks([bad])


def test_a_masked_category_loses_its_spans_and_its_annotated_flag_only() -> None:
    masked = mask_labels(CCKS_LIKE, {"BODY_PART"})
    assert [e["label"] for e in masked["entities"]] == ["WM_DISEASE"]
    assert masked["annotated"] == ["WM_DISEASE", "EXAM"]
    assert masked["text"] == CCKS_LIKE["text"]
    assert len(CCKS_LIKE["entities"]) == 3  # the corpus record itself is untouched
    assert mask_labels(CCKS_LIKE, set()) is CCKS_LIKE


def test_the_site_inside_a_finding_is_forced_to_anatomy_unless_masked() -> None:
    tags = tag_names()
    ti = {t: i for i, t in enumerate(tags)}
    vocab = Vocab(list(CCKS_LIKE["text"]))

    def allowed_at(rec: dict, pos: int) -> set[str]:
        (ex,) = record_examples(rec, "ccks2019", vocab, None, tags, 128)
        return {tags[i] for i in ex.allowed[pos].nonzero()[0]}

    assert allowed_at(CCKS_LIKE, 1) == {"B-BODY_PART"}  # 腹 of 腹痛: the schema would fuse it into the symptom
    open_ = allowed_at(mask_labels(CCKS_LIKE, {"BODY_PART"}), 1)
    assert {"O", "B-SYMPTOM", "B-BODY_PART"} <= open_
    assert "B-WM_DISEASE" not in open_  # a category the source still annotates stays closed
    assert allowed_at(mask_labels(CCKS_LIKE, {"BODY_PART"}), 7) == {"B-WM_DISEASE"}
    assert ti["B-BODY_PART"] not in record_examples(CCKS_LIKE, "ccks2019", vocab, None, tags, 128)[0].allowed[0].nonzero()[0]


def test_load_corpus_masks_every_split_of_the_named_source_only(tmp_path) -> None:
    for src in ("ccks2019", "team"):
        (tmp_path / src).mkdir()
        for split in ("train", "dev", "test"):
            (tmp_path / src / f"{split}.jsonl").write_text(json.dumps(CCKS_LIKE, ensure_ascii=False) + "\n", "utf-8")
    corpus = load_corpus(tmp_path, ["ccks2019", "team"], {"ccks2019": {"BODY_PART"}})
    for split in ("train", "dev", "test"):
        assert "BODY_PART" not in corpus["ccks2019"][split][0]["annotated"]
        assert not any(e["label"] == "BODY_PART" for e in corpus["ccks2019"][split][0]["entities"])
        assert corpus["team"][split][0] == CCKS_LIKE
