"""How well do rules mined from machine output recover the rules of the gold annotations?

    python benchmarks/insights_recovery.py [--split test] [--min-count 2] [--min-confidence 0.3] [--json OUT]
                                           [--gold-db PATH] [--engine-db PATH]

On the team-annotated records of one split (default ``test``: the 120 records
written separately from the training pool, never trained on) rules of every
kind are mined, at the same thresholds, from

- (a) ``gold``: the team's annotations (spans, categories, assertions);
- (b) ``engine``: the shipped model's output with its assertions (``StructuringEngine``);
- (c) ``lexicon``: every term of the model's lexicon found in the raw text
  (longest match first, no overlaps; a term listed under several categories
  counts under each), no model and no negation: everything counts as present;
- (c') ``lexicon−neg``: (c) without the hits that lie inside a gold span the team
  marked absent / history / family / possible, to see how much of (c)'s error
  the negated findings cause.

For (b), (c) and (c') against (a): rules found, precision and recall of the rule
set (a rule is its kind, antecedent names and consequent names), and the mean
absolute error of confidence over the rules both sets hold. Names are
normalised with the engine's Normalizer in every arm. ``--gold-db`` also writes
all team records (every split, gold entities marked accepted) into a database
for the ``rules`` command and the insights window; ``--engine-db`` writes the
engine's output for the split.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tcm_desktop.insights.rules import Rule, mine_rules  # noqa: E402
from tcm_desktop.insights.transactions import FINDINGS, KINDS, Transaction, from_structured  # noqa: E402
from tcm_desktop.records.database import Database  # noqa: E402
from tcm_desktop.schema import LABELS, Record  # noqa: E402
from tcm_desktop.structured import FoundEntity, StructuredRecord  # noqa: E402
from tcm_desktop.text.compositions import default_book  # noqa: E402
from tcm_desktop.text.engine import StructuringEngine  # noqa: E402
from tcm_desktop.text.lexicon import Lexicon  # noqa: E402
from tcm_desktop.text.prescription import build_prescription  # noqa: E402
from tcm_desktop.text.sections import find_sections  # noqa: E402
from tcm_desktop.text.values import Normalizer  # noqa: E402
from tcm_desktop.training.team_records import load_splits  # noqa: E402


def gold_record(r: Record, norm: Normalizer, status: str = "accepted") -> StructuredRecord:
    ents = []
    for e in r.entities:
        fe = FoundEntity(e.start, e.end, e.label, r.text[e.start : e.end], e.assertion, 1.0, {}, status)
        norm.normalize_entity(fe)
        ents.append(fe)
    sections = find_sections(r.text)
    return StructuredRecord(r.id, r.text, ents, sections, build_prescription(r.text, ents, norm, sections))


def lexicon_entities(text: str, lexicon: Lexicon, norm: Normalizer) -> list[FoundEntity]:
    """Longest-first, non-overlapping lexicon hits, each under every schema category that lists it."""
    cats = [c for c in lexicon.categories if c in LABELS]
    taken = [False] * len(text)
    out: list[FoundEntity] = []
    for start, end, mask in sorted(lexicon.matches(text), key=lambda m: (-(m[1] - m[0]), m[0])):
        if any(taken[start:end]):
            continue
        labels = [c for i, c in enumerate(lexicon.categories) if mask >> i & 1 and c in cats]
        if not labels:
            continue
        for i in range(start, end):
            taken[i] = True
        for label in labels:
            fe = FoundEntity(start, end, label, text[start:end])
            norm.normalize_entity(fe)
            out.append(fe)
    return out


def compare(gold: list[Rule], other: list[Rule]) -> dict:
    g = {r.key: r for r in gold}
    o = {r.key: r for r in other}
    both = g.keys() & o.keys()
    p = len(both) / len(o) if o else 0.0
    r = len(both) / len(g) if g else 0.0
    mae = sum(abs(g[k].confidence - o[k].confidence) for k in both) / len(both) if both else float("nan")
    bias = sum(o[k].confidence - g[k].confidence for k in both) / len(both) if both else float("nan")
    return {"rules": len(o), "shared": len(both), "precision": round(p, 3), "recall": round(r, 3),
            "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0, "conf_mae": round(mae, 3), "conf_bias": round(bias, 3)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", default="test", choices=("train", "dev", "test"))
    ap.add_argument("--min-count", type=int, default=2)
    ap.add_argument("--min-confidence", type=float, default=0.3)
    ap.add_argument("--model", type=Path, default=REPO / "models" / "ner")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--gold-db", type=Path, help="write every team record (gold entities) to this database")
    ap.add_argument("--engine-db", type=Path, help="write the engine's output for the split to this database")
    args = ap.parse_args(argv)

    splits = load_splits()
    records = splits[args.split]
    engine = StructuringEngine(args.model)
    norm = engine.normalizer
    t0 = time.perf_counter()
    structured = list(engine.structure_many([(r.id, r.text) for r in records]))
    engine_s = time.perf_counter() - t0

    gold = [gold_record(r, norm) for r in records]
    lex = [StructuredRecord(r.id, r.text, lexicon_entities(r.text, engine.ner.lexicon, norm)) for r in records]
    # (c'): drop lexicon hits inside a gold span that is not present
    lex_noneg = []
    negated_hits = finding_hits = 0
    for r, sr in zip(records, lex):
        masked = [(e.start, e.end) for e in r.entities if e.assertion != "present"]
        keep = []
        for e in sr.entities:
            inside = any(s <= e.start and e.end <= t for s, t in masked)
            if e.label in FINDINGS:
                finding_hits += 1
                negated_hits += inside
            if not inside:
                keep.append(e)
        lex_noneg.append(StructuredRecord(sr.id, sr.text, keep))

    def mine(recs: list[StructuredRecord]) -> dict[str, list[Rule]]:
        tx: list[Transaction] = [from_structured(r) for r in recs]
        rules = mine_rules(tx, min_count=args.min_count, min_confidence=args.min_confidence)
        return {k: [r for r in rules if r.kind == k] for k in KINDS} | {"all": rules}

    arms = {"gold": mine(gold), "engine": mine(structured), "lexicon": mine(lex), "lexicon-neg": mine(lex_noneg)}
    table = {
        kind: {arm: (compare(arms["gold"][kind], arms[arm][kind]) if arm != "gold" else {"rules": len(arms["gold"][kind])})
               for arm in arms}
        for kind in [*KINDS, "all"]
    }
    book = default_book()
    mentions = [r.text[e.start : e.end] for rs in splits.values() for r in rs for e in r.entities if e.label == "FORMULA"]
    covered = [m for m in mentions if book.variants(m)]
    result = {
        "split": args.split, "records": len(records), "min_count": args.min_count,
        "min_confidence": args.min_confidence, "model_version": engine.version,
        "engine_seconds": round(engine_s, 1),
        "lexicon_finding_hits": finding_hits, "lexicon_finding_hits_in_gold_non_present_spans": negated_hits,
        "formula_mentions_all_splits": len(mentions), "formula_names_all_splits": len(set(mentions)),
        "formula_mentions_with_composition": len(covered), "formula_names_with_composition": sorted(set(covered)),
        "table": table,
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))
    print()
    print("| kind | gold rules | arm | rules | shared | precision | recall | F1 | confidence MAE | confidence bias |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind, row in table.items():
        for arm in ("engine", "lexicon", "lexicon-neg"):
            c = row[arm]
            print(f"| {kind} | {row['gold']['rules']} | {arm} | {c['rules']} | {c['shared']} | {c['precision']:.3f} | "
                  f"{c['recall']:.3f} | {c['f1']:.3f} | {c['conf_mae']:.3f} | {c['conf_bias']:+.3f} |")
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if args.gold_db:
        with Database(args.gold_db) as db:
            for name, recs in splits.items():
                for r in recs:
                    db.save_record(gold_record(r, norm), title=f"{name} {r.id}")
    if args.engine_db:
        with Database(args.engine_db) as db:
            for r in structured:
                db.save_record(r)
    return 0


if __name__ == "__main__":
    sys.exit(main())
