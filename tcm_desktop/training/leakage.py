"""Near-duplicate check between test records and the records a model trains on.

A test score only means something on text the model has not seen. Two rules,
both run in CI (``tests/test_leakage.py``) and from the command line:

    python -m tcm_desktop.training.leakage check [--json OUT]
    python -m tcm_desktop.training.leakage scores [--top N]

``check`` exits 1 when any test record breaks a rule, and lists the
offenders; ``scores`` lists the highest record-rule scores, flagged or not.

Sentence rule
    Records are split into sentences at 。！？；;!? and newlines; a leading
    heading (``舌脉：``, ``T/P:``) is dropped; sentences of at least 10 units of
    content (a Chinese character, a Latin word or a number each count 1) are
    compared. A test sentence whose character 3-gram Jaccard similarity with
    any train or dev sentence is >= 0.7 is a leak, unless it is that close to
    sentences of 3 or more different training records (stock phrasing,
    reported as ``sentence-stock`` without failing).

Record rule (a retelling of one particular record)
    Only rare evidence counts. A test record that shares >= 3 identical
    measurements (a number with a non-dose unit: ``12.6pmol/L``, ``46U/L``,
    ``14mm``), each found in at most 2 reference records, with a single train
    or dev record, or >= 35 % of whose rare 3-grams (found in at most 5
    reference records) occur in a single train or dev record, is a leak even
    when every sentence was reworded. Calibrated on the team and clinic B
    files (docs/data.md, "Honest test set").

Pairs checked: team test vs team train pool (train + dev, since dev is a hash
slice of that pool), and clinic B test vs clinic B train (the adaptation
curve trains on the latter and scores the former). Clinic B never trains the
shipped model, so the team test set is not checked against it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from tcm_desktop.annotation import Record, SchemaError
from tcm_desktop.training import team_records

SENTENCE_SPLIT = re.compile(r"[。！？；;!?\n]+")
# A leading section heading or list number (``舌脉：``, ``T/P:``, ``3.``): form, not content.
_HEADING = re.compile(r"^(?:\d+[.、]\s*)?(?:[^\s：:，,]{1,6}[：:]\s*)?")
MIN_SENTENCE_CHARS = 10
SENTENCE_JACCARD = 0.7
#: A sentence near-duplicated in this many different reference records is stock phrasing, not a leak.
STOCK_RECORDS = 3
RECORD_SHARED_MEASUREMENTS = 3
RECORD_CONTAINMENT = 0.35
#: A 3-gram or measurement found in more reference records than this is common, not evidence.
RARE_MAX_RECORDS = 5
MEASUREMENT_MAX_RECORDS = 2

CLINIC_B_DIR = team_records.ANNOTATED_DIR.parent / "clinic_b"

# A number (a range or a blood pressure allowed) and the unit right after it.
_MEASUREMENT = re.compile(
    r"(?<![\d.A-Za-z])(\d+(?:\.\d+)?(?:[/~～-]\d+(?:\.\d+)?)?)\s*"
    r"(×10\^?\d+/L|次/分|[A-Za-zμµ%℃‰]+(?:/[A-Za-z0-9.]+)?)"
)
# Units of doses and amounts: identical herb or drug doses are the norm, not a paraphrase.
_DOSE_UNITS = {"g", "mg", "μg", "µg", "ug", "kg", "ml", "mL", "l", "L", "ig", "x", "X"}


@dataclass(frozen=True)
class Finding:
    """One test item that is too close to one training item."""

    rule: str  # "sentence", "sentence-stock", "record-measurements" or "record-containment"
    test_id: str
    ref_id: str
    score: float
    test_text: str
    ref_text: str


def sentences(text: str) -> list[str]:
    """The sentences the rule compares: split at 。！？；!?; and newlines, a leading heading
    removed, at least 10 units of content (see :func:`content_length`)."""
    out = []
    for s in SENTENCE_SPLIT.split(text):
        s = _HEADING.sub("", s.strip(), count=1).strip()
        if content_length(s) >= MIN_SENTENCE_CHARS:
            out.append(s)
    return out


# A Chinese character, or a run of Latin letters, or a number: one unit of content each.
_UNIT = re.compile(r"[A-Za-z]+|\d+(?:\.\d+)?|[^\W\d_A-Za-z]")


def content_length(text: str) -> int:
    """Length in units of content: ``Omeprazole 20mg qd`` is 4 (like 4 characters), ``舌红，苔黄`` is 4.

    Punctuation and spaces do not count, and a Latin word counts like one
    Chinese character, so a drug order in English is as short as it reads.
    """
    return len(_UNIT.findall(text))


def trigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 3] for i in range(len(text) - 2))


def jaccard(a: str, b: str) -> float:
    ga, gb = trigrams(a), trigrams(b)
    union = len(ga | gb)
    return len(ga & gb) / union if union else 0.0


def measurements(text: str) -> set[str]:
    """Number+unit values other than doses, spaces removed (``FT3 12.6 pmol/L`` -> ``12.6pmol/L``)."""
    out = set()
    for m in _MEASUREMENT.finditer(text):
        if m.group(2) in _DOSE_UNITS:
            continue
        out.add(m.group(1) + m.group(2))
    return out


class GramIndex:
    """Inverted index from 3-grams to items, so a query only meets items it shares a 3-gram with."""

    def __init__(self, items: Iterable[tuple[str, str]]) -> None:
        self.ids: list[str] = []
        self.texts: list[str] = []
        self.sizes: list[int] = []
        self.postings: dict[str, list[int]] = {}
        for item_id, text in items:
            k = len(self.ids)
            grams = trigrams(text)
            self.ids.append(item_id)
            self.texts.append(text)
            self.sizes.append(len(grams))
            for g in grams:
                self.postings.setdefault(g, []).append(k)

    def overlaps(self, text: str) -> tuple[int, Counter]:
        """The query's 3-gram count and, per item, how many 3-grams it shares."""
        grams = trigrams(text)
        shared: Counter = Counter()
        for g in grams:
            shared.update(self.postings.get(g, ()))
        return len(grams), shared

    def similar(self, text: str, threshold: float) -> list[tuple[int, float]]:
        """Items whose Jaccard with ``text`` is >= threshold, best first."""
        n, shared = self.overlaps(text)
        hits = [(k, c / (n + self.sizes[k] - c)) for k, c in shared.items()]
        return sorted(((k, j) for k, j in hits if j >= threshold), key=lambda x: -x[1])


def sentence_leaks(test: Sequence[Record], ref: Sequence[Record], stock: int = STOCK_RECORDS) -> list[Finding]:
    """Test sentences near-duplicating a sentence of the reference records.

    A sentence close to sentences of ``stock`` or more different reference
    records is stock phrasing (``舌红，苔黄，脉弦数``, ``7剂，水煎服，日一剂``)
    and is reported with rule ``sentence-stock``, which does not fail the check.
    """
    index = GramIndex((r.id, s) for r in ref for s in sentences(r.text))
    out = []
    for r in test:
        for s in sentences(r.text):
            hits = index.similar(s, SENTENCE_JACCARD)
            if not hits:
                continue
            k, j = hits[0]
            rule = "sentence-stock" if len({index.ids[h] for h, _ in hits}) >= stock else "sentence"
            out.append(Finding(rule, r.id, index.ids[k], round(j, 3), s, index.texts[k]))
    return out


def record_leaks(
    test: Sequence[Record], ref: Sequence[Record], containment: float = RECORD_CONTAINMENT
) -> list[Finding]:
    """Test records that paraphrase one particular reference record (the record rule).

    Only rare evidence counts: measurements found in at most 2 reference records
    (a pulse of 18次/分 is everywhere) and 3-grams found in at most 5 (``主诉：``,
    ``苔薄白`` and ``10g，`` are everywhere). ``containment=0`` reports every
    record's best score (the ``scores`` command, for calibration).
    """
    ref_grams = [trigrams(r.text) for r in ref]
    ref_values = [measurements(r.text) for r in ref]
    gram_df = Counter(g for gs in ref_grams for g in gs)
    value_df = Counter(v for vs in ref_values for v in vs)
    index: dict[str, list[int]] = {}
    for k, gs in enumerate(ref_grams):
        for g in gs:
            if gram_df[g] <= RARE_MAX_RECORDS:
                index.setdefault(g, []).append(k)
    out = []
    for r in test:
        values = {v for v in measurements(r.text) if 0 < value_df[v] <= MEASUREMENT_MAX_RECORDS}
        if len(values) >= RECORD_SHARED_MEASUREMENTS:
            shared = max(((values & vs, k) for k, vs in enumerate(ref_values)), key=lambda x: len(x[0]))
            if len(shared[0]) >= RECORD_SHARED_MEASUREMENTS:
                out.append(Finding("record-measurements", r.id, ref[shared[1]].id, float(len(shared[0])),
                                   " ".join(sorted(shared[0])), ""))
                continue
        # Rare 3-grams of the test record, those found nowhere in the reference included.
        rare = [g for g in trigrams(r.text) if gram_df[g] <= RARE_MAX_RECORDS]
        if len(rare) < 20:  # too little rare text to judge
            continue
        hits: Counter = Counter()
        for g in rare:
            hits.update(index.get(g, ()))
        if not hits:
            continue
        k, c = hits.most_common(1)[0]
        if c / len(rare) >= containment:
            out.append(Finding("record-containment", r.id, ref[k].id, round(c / len(rare), 3),
                               r.text[:80], ref[k].text[:80]))
    return out


def leaks(test: Sequence[Record], ref: Sequence[Record]) -> list[Finding]:
    """Every finding of both rules for ``test`` against ``ref``."""
    return sentence_leaks(test, ref) + record_leaks(test, ref)


def failing(findings: Iterable[Finding]) -> list[Finding]:
    """The findings that fail the check (stock phrasing is reported only)."""
    return [f for f in findings if f.rule != "sentence-stock"]


Pairs = dict[str, tuple[list[Record], list[Record]]]


def pairs(annotated: Path | None = None, clinic_b: Path | None = None) -> Pairs:
    """The (test, reference) record sets to check, by name."""
    annotated = annotated or team_records.ANNOTATED_DIR
    clinic_b = clinic_b or CLINIC_B_DIR
    out = {"team test vs team train+dev": (team_records.load_pool("test", annotated),
                                           team_records.load_pool("train", annotated))}
    if (clinic_b / "test.tcm.txt").exists():
        out["clinic_b test vs clinic_b train"] = (team_records.load_files([clinic_b / "test.tcm.txt"], "clinic_b"),
                                                  team_records.load_files(clinic_b.glob("train_*.tcm.txt"), "clinic_b"))
    return out


def check(annotated: Path | None = None, clinic_b: Path | None = None) -> dict[str, list[Finding]]:
    """Findings per checked pair of sets (empty lists when the test sets are clean)."""
    return {name: leaks(test, ref) for name, (test, ref) in pairs(annotated, clinic_b).items()}


def summary(found: dict[str, list[Finding]], checked: Pairs) -> dict:
    """Counts per pair: what was compared, what was found, by rule (records counted once per rule)."""
    out = {}
    for name, fs in found.items():
        test = checked[name][0]
        by_rule: dict[str, set[str]] = {}
        for f in fs:
            by_rule.setdefault(f.rule, set()).add(f.test_id)
        out[name] = {
            "test_records": len(test),
            "sentences_compared": sum(len(sentences(r.text)) for r in test),
            "findings": len(fs),
            "failing_findings": len(failing(fs)),
            "test_records_with_findings": len({f.test_id for f in failing(fs)}),
            "findings_by_rule": dict(Counter(f.rule for f in fs)),
            "test_records_by_rule": {rule: len(ids) for rule, ids in sorted(by_rule.items())},
        }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="list test items too close to training items; exit 1 if any")
    c.add_argument("--json", type=Path, help="also write the counts and every finding to this JSON file")
    c.add_argument("--blind", action="store_true",
                   help="show only the train side of a finding (for writers of train records, who must not read the test)")
    sc = sub.add_parser("scores", help="the highest record-rule scores per pair, flagged or not (calibration)")
    sc.add_argument("--top", type=int, default=10)
    args = ap.parse_args(argv)
    try:
        checked = pairs()
    except SchemaError as e:
        print(f"A record file could not be read, so nothing was checked: {e}", file=sys.stderr)
        return 2
    if args.cmd == "scores":
        for name, (test, ref) in checked.items():
            best = sorted(record_leaks(test, ref, containment=0.0), key=lambda f: -f.score)[: args.top]
            print(f"## {name}: highest record-rule scores (threshold {RECORD_CONTAINMENT}, "
                  f"or >= {RECORD_SHARED_MEASUREMENTS} rare shared measurements)")
            for f in best:
                print(f"{f.rule} {f.score:g}: {f.test_id} ~ {f.ref_id}")
        return 0
    found = {name: leaks(test, ref) for name, (test, ref) in checked.items()}
    for pair, fs in found.items():
        print(f"## {pair}: {len(fs)} findings in {len({f.test_id for f in fs})} test records")
        for f in fs:
            test_side = "(hidden: --blind)" if args.blind else f.test_text
            print(f"{f.rule} {f.score:g}: {f.test_id} ~ {f.ref_id}\n   test: {test_side}\n   ref:  {f.ref_text}")
    if args.json:
        payload = {"summary": summary(found, checked), "findings": {p: [asdict(f) for f in fs] for p, fs in found.items()}}
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    bad = sum(len(failing(fs)) for fs in found.values())
    print("leak check: " + ("clean" if not bad else f"{bad} findings"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
