from __future__ import annotations

import pytest

from tcm_desktop.annotation import Entity, Record, SchemaError, validate_record
from tcm_desktop.schema import ASSERTIONS, CATEGORIES, LABELS
from tcm_desktop.text.markup import parse_markup, parse_record_file, render_markup
from tcm_desktop.text.tagging import allowed_transitions, spans_from_tags, tag_names, viterbi


def test_schema_has_23_distinct_categories_with_distinct_colours_and_shortcuts() -> None:
    assert len(CATEGORIES) == 23
    assert len(set(LABELS)) == 23
    assert len({c.colour.lower() for c in CATEGORIES}) == 23
    assert len({c.shortcut for c in CATEGORIES}) == 23
    assert ASSERTIONS == ("present", "absent", "possible", "history", "family")


def test_schema_matches_the_spec_table(shared_data) -> None:
    spec = (shared_data.parent / "spec" / "entity-schema.md").read_text(encoding="utf-8")
    for c in CATEGORIES:
        assert f"| {c.code} | {c.zh} | {c.en} |" in spec, c.code


def test_parse_markup_offsets_and_assertions() -> None:
    text, ents = parse_markup("主诉：反复[胃脘胀痛|SYMPTOM][3年|TIME]，无[反酸|SYMPTOM:absent]。")
    assert text == "主诉：反复胃脘胀痛3年，无反酸。"
    assert [(text[e.start:e.end], e.label, e.assertion) for e in ents] == [
        ("胃脘胀痛", "SYMPTOM", "present"), ("3年", "TIME", "present"), ("反酸", "SYMPTOM", "absent")]
    assert render_markup(text, ents) == "主诉：反复[胃脘胀痛|SYMPTOM][3年|TIME]，无[反酸|SYMPTOM:absent]。"


def test_markup_handles_astral_characters_and_escapes() -> None:
    text, ents = parse_markup("😀[头痛|SYMPTOM]\\[注\\]")
    assert text == "😀头痛[注]"
    assert text[ents[0].start:ents[0].end] == "头痛" and ents[0].start == 1


@pytest.mark.parametrize("bad", ["[，头痛|SYMPTOM]", "[头痛|NOPE]", "[头痛|SYMPTOM:maybe]", "头痛]", "[头痛 |SYMPTOM]"])
def test_bad_markup_is_rejected(bad: str) -> None:
    with pytest.raises(SchemaError):
        parse_markup(bad, "r1")


def test_validate_record_rejects_overlap_and_out_of_range() -> None:
    with pytest.raises(SchemaError, match="overlaps"):
        validate_record(Record("x", "胃脘胀痛", [Entity(0, 3, "SYMPTOM"), Entity(2, 4, "SYMPTOM")]))
    with pytest.raises(SchemaError, match="outside"):
        validate_record(Record("x", "头痛", [Entity(0, 5, "SYMPTOM")]))


def test_record_file_parser(tmp_path) -> None:
    p = tmp_path / "a.tcm.txt"
    p.write_text("// comment\n@@ r1\n[头痛|SYMPTOM][2天|TIME]\n\n@@ r2\n无[发热|SYMPTOM:absent]\n", encoding="utf-8")
    recs = parse_record_file(p)
    assert [r.id for r in recs] == ["r1", "r2"]
    assert recs[1].entities[0].assertion == "absent"
    p.write_text("@@ r1\n头痛\n@@ r1\n发热\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="duplicate"):
        parse_record_file(p)


def test_bio_decoding_and_viterbi_constraints() -> None:
    import numpy as np

    tags = tag_names()
    ok = allowed_transitions(tags)
    assert not ok[tags.index("O"), tags.index("I-HERB")]
    assert ok[tags.index("B-HERB"), tags.index("I-HERB")]
    ids = [tags.index(t) for t in ["B-HERB", "I-HERB", "O", "B-DOSAGE", "I-DOSAGE", "I-DOSAGE"]]
    assert spans_from_tags(ids, tags) == [(0, 2, "HERB"), (3, 6, "DOSAGE")]
    # emissions that prefer an invalid O -> I-HERB path must decode to a valid one
    k = len(tags)
    em = np.full((2, k), -5.0, dtype=np.float32)
    em[0, tags.index("O")] = 1.0
    em[1, tags.index("I-HERB")] = 2.0
    trans = np.where(ok, 0.0, -1e4).astype(np.float32)
    start = np.where([not t.startswith("I-") for t in tags], 0.0, -1e4).astype(np.float32)
    path, conf = viterbi(em, trans, start, np.zeros(k, np.float32))
    assert tags[path[1]] != "I-HERB" or tags[path[0]] in ("B-HERB", "I-HERB")
    assert conf.shape == (2,)


def test_batched_decode_matches_viterbi_and_brute_force_marginals() -> None:
    import itertools

    import numpy as np

    from tcm_desktop.text.tagging import decode_batch

    rng = np.random.default_rng(1)
    k = 3
    trans, start, end = rng.normal(size=(k, k)), rng.normal(size=k), rng.normal(size=k)
    em = rng.normal(size=(2, 5, k))
    lengths = np.array([5, 3])
    paths, confs = decode_batch(em, lengths, trans, start, end)
    for i, n in enumerate(lengths):
        scores = {}
        for p in itertools.product(range(k), repeat=int(n)):
            scores[p] = start[p[0]] + em[i, 0, p[0]] + sum(trans[p[j - 1], p[j]] + em[i, j, p[j]] for j in range(1, n)) + end[p[-1]]
        log_z = np.logaddexp.reduce(list(scores.values()))
        best = max(scores, key=scores.get)
        assert paths[i] == list(best)
        marg = [np.exp(np.logaddexp.reduce([s for p, s in scores.items() if p[t] == best[t]]) - log_z) for t in range(n)]
        assert np.allclose(confs[i], marg, atol=1e-5)
        vit, _ = viterbi(em[i, :n].astype(np.float32), trans.astype(np.float32), start.astype(np.float32), end.astype(np.float32))
        assert vit == paths[i]


def test_trim_span_drops_edge_punctuation_and_whitespace_only() -> None:
    from tcm_desktop.schema import trim_span

    text = "伴，脉结代。 诊"
    assert trim_span(text, 1, 6) == (2, 5)  # "，脉结代。" -> "脉结代"
    assert text[slice(*trim_span(text, 0, len(text)))] == text
    s, e = trim_span(text, 5, 7)  # "。 " has nothing but punctuation and space
    assert s == e
