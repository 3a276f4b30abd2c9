"""How far two careful annotators agree, per category: the ceiling a model's test score can be read against.

A second annotator marks a sample of records blind (from the plain text, the
same guidelines, without seeing the first markup). Agreement is the strict span
F1 of one annotation against the other (symmetric: swapping them swaps P and R),
with each disagreement sorted into boundary (same label, overlapping span),
label (same span, another label), both, or only-one-marked. With ``--model`` the
shipped engine is scored on the same records against both annotators, so its
figure sits next to the human one.

    python -m tcm_desktop.training.agreement --first resources/annotated/test \
        --second resources/agreement/test_sample_second.tcm.txt [--model models/ner] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from tcm_desktop.annotation import Record
from tcm_desktop.schema import LABELS
from tcm_desktop.text.markup import parse_record_file
from tcm_desktop.training.metrics import Span, f1_interval, record_counts, score

KINDS = ("boundary", "label", "boundary+label", "only_first", "only_second")


def _spans(r: Record) -> set[Span]:
    return {(e.start, e.end, e.label) for e in r.entities}


def disagreements(first: Sequence[Iterable[Span]], second: Sequence[Iterable[Span]]) -> dict[str, Counter]:
    """Per category (of the first annotation's span, else the second's), why the unmatched spans differ."""
    out: dict[str, Counter] = {k: Counter() for k in KINDS}
    for f, s in zip(first, second):
        fs, ss = set(f), set(s)
        only_f, only_s = fs - ss, ss - fs
        matched_s: set[Span] = set()
        for a in sorted(only_f):
            overlap = [b for b in only_s if b[0] < a[1] and a[0] < b[1]]
            if any(b[2] == a[2] for b in overlap):
                kind = "boundary"
            elif any((b[0], b[1]) == (a[0], a[1]) for b in overlap):
                kind = "label"
            elif overlap:
                kind = "boundary+label"
            else:
                kind = "only_first"
            matched_s.update(overlap)
            out[kind][a[2]] += 1
        for b in only_s - matched_s:
            out["only_second"][b[2]] += 1
    return out


def agreement(first: Sequence[Record], second: Sequence[Record]) -> dict:
    """Strict F1 of ``second`` against ``first`` (micro, macro, per category) and the kinds of disagreement."""
    f = [_spans(r) for r in first]
    s = [_spans(r) for r in second]
    res = score(f, s, LABELS)
    res["disagreements"] = {k: dict(v) for k, v in disagreements(f, s).items()}
    res["micro"]["f1_95"] = f1_interval(record_counts(f, s))
    for lab, v in res["per_label"].items():
        if v["support"]:
            keep = [({x for x in a if x[2] == lab}, {x for x in b if x[2] == lab}) for a, b in zip(f, s)]
            v["f1_95"] = f1_interval(record_counts([a for a, _ in keep], [b for _, b in keep]))
    res["records"] = len(first)
    res["spans"] = {"first": sum(map(len, f)), "second": sum(map(len, s))}
    return res


def paired_records(first_path: Path, second_path: Path, exclude: set[str]) -> tuple[list[Record], list[Record]]:
    """The second annotation's records and the first annotation's records with the same ids and text."""

    def read(path: Path) -> list[Record]:
        files = sorted(path.glob("*.tcm.txt")) if path.is_dir() else [path]
        return [r for p in files for r in parse_record_file(p)]

    second = [r for r in read(second_path) if r.id not in exclude]
    by_id = {r.id: r for r in read(first_path)}
    by_suffix = {rid.rsplit("-", 1)[-1]: r for rid, r in by_id.items()}
    first = []
    for r in second:
        match = by_id.get(r.id) or by_suffix.get(r.id.rsplit("-", 1)[-1])
        if match is None:
            raise SystemExit(f"record {r.id} of the second annotation is not in {first_path}")
        if match.text != r.text:
            raise SystemExit(f"record {r.id}: the second annotator's text differs from the first")
        first.append(match)
    return first, second


def _model_records(model: Path, records: Sequence[Record]) -> list[Record]:
    """The engine's spans on the same texts, as records (the app's own INT8 path, via ``evaluate.predict``)."""
    from tcm_desktop.annotation import Entity
    from tcm_desktop.text.engine import StructuringEngine
    from tcm_desktop.training.evaluate import predict

    spans, _ = predict(StructuringEngine(model), [r.text for r in records])
    return [Record(r.id, r.text, [Entity(*sp) for sp in found]) for r, found in zip(records, spans)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--first", type=Path, required=True, help="the first annotation (a file or a folder of *.tcm.txt)")
    ap.add_argument("--second", type=Path, required=True, help="the second annotator's file")
    ap.add_argument("--exclude", nargs="*", default=[], help="record ids the second annotator did not finish")
    ap.add_argument("--model", type=Path, help="also score this model's engine on the same records")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    first, second = paired_records(args.first, args.second, set(args.exclude))
    out = {"second_vs_first": agreement(first, second)}
    if args.model:
        model = _model_records(args.model, first)
        out["model_vs_first"] = agreement(first, model)
        out["model_vs_second"] = agreement(second, model)
    cols = list(out)
    print(f"{len(first)} records; strict F1 " + " | ".join(cols))

    def cell(v: dict) -> str:
        lo, hi = v.get("f1_95", (0.0, 0.0))
        return f"{v['f1'] * 100:>8.1f} [{lo * 100:4.1f}-{hi * 100:5.1f}]"

    print(f"{'micro':<22}" + "".join(cell(out[c]["micro"]) for c in cols))
    print(f"{'macro':<22}" + "".join(f"{out[c]['macro_f1'] * 100:>8.1f}{'':14}" for c in cols))
    for lab in LABELS:
        sup = out[cols[0]]["per_label"][lab]["support"]
        print(f"{lab + f' ({sup})':<22}" + "".join(cell(out[c]["per_label"][lab]) for c in cols))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
