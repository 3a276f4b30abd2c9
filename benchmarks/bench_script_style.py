"""Team TEST F1 per script (simplified / traditional) and per style (prose / template / terse).

    PYTHONPATH=. python benchmarks/bench_script_style.py [--model models/ner] [--out docs/script_style.json]

Records: every record of ``resources/annotated/test/*.tcm.txt`` (the team test
set, never used for training). *traditional* is the same record converted with
OpenCC ``s2t`` keeping every offset (:func:`to_traditional_same_length`), so the
gold spans are unchanged. Styles: *template* = the template-style test file
(``template_t.tcm.txt``, 四诊 forms); *terse* = other records without any
section heading (one-paragraph notes); *prose* = the rest. Scores are strict
micro P/R/F1 over (start, end, category), and the same with the assertion
(``+assert``). The engine runs the shipped model with its rules; the template
rows are also given with the template rule switched off, to show what it adds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tcm_desktop.schema import LABELS  # noqa: E402
from tcm_desktop.text import engine as engine_module  # noqa: E402
from tcm_desktop.text import script as script_module  # noqa: E402
from tcm_desktop.text.engine import StructuringEngine  # noqa: E402
from tcm_desktop.text.script import to_traditional_same_length  # noqa: E402
from tcm_desktop.text.sections import find_sections  # noqa: E402
from tcm_desktop.training.metrics import score  # noqa: E402
from tcm_desktop.training.team_records import load_pool  # noqa: E402

STYLES = ("prose", "template", "terse")


def _unchanged(text: str) -> str:
    return text


def style_of(record_id: str, text: str) -> str:
    if "-template_" in record_id:
        return "template"
    return "prose" if find_sections(text) else "terse"


def predict(engine: StructuringEngine, records, traditional: bool) -> list[set[tuple[int, int, str, str]]]:
    """(start, end, label, assertion) per record, on the record or its traditional version."""
    texts = [to_traditional_same_length(r.text) if traditional else r.text for r in records]
    assert all(len(a) == len(b.text) for a, b in zip(texts, records))
    out = engine.structure_many([(r.id, t) for r, t in zip(records, texts)])
    return [{(e.start, e.end, e.label, e.assertion) for e in o.entities} for o in out]


def metrics(records, preds) -> dict:
    gold = [{(e.start, e.end, e.label, e.assertion) for e in r.entities} for r in records]
    span = score([{s[:3] for s in g} for g in gold], [{s[:3] for s in p} for p in preds], LABELS)["micro"]
    ga = [{(s[0], s[1], f"{s[2]}:{s[3]}") for s in g} for g in gold]
    pa = [{(s[0], s[1], f"{s[2]}:{s[3]}") for s in p} for p in preds]
    with_assertion = score(ga, pa, sorted({s[2] for x in ga + pa for s in x}))["micro"]
    return {"span": span, "assert": with_assertion}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(REPO / "models" / "ner"))
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    engine = StructuringEngine(args.model)
    records = load_pool("test")
    rows = []
    t0 = time.perf_counter()
    groups = [("all", list(range(len(records))))]
    groups += [(st, [i for i, r in enumerate(records) if style_of(r.id, r.text) == st]) for st in STYLES]
    template = [records[i] for i in groups[STYLES.index("template") + 1][1]]
    for trad in (False, True):
        preds = predict(engine, records, trad)
        for name, idx in groups:
            rows.append({"style": name, "script": "traditional" if trad else "simplified", "records": len(idx),
                         "entities": sum(len(records[i].entities) for i in idx),
                         **metrics([records[i] for i in idx], [preds[i] for i in idx])})
    rule = engine_module.with_template_findings
    engine_module.with_template_findings = lambda text, found: found
    try:
        for trad in (False, True):
            rows.append({"style": "template, rule off", "script": "traditional" if trad else "simplified",
                         "records": len(template), "entities": sum(len(r.entities) for r in template),
                         **metrics(template, predict(engine, template, trad))})
    finally:
        engine_module.with_template_findings = rule
    # the traditional records without the script step (what the model did before it), for comparison
    convert = script_module.to_model_script
    engine_module.to_model_script = script_module.to_model_script = _unchanged
    try:
        preds = predict(engine, records, True)
        for name, idx in groups:
            rows.append({"style": f"{name}, no script conversion", "script": "traditional", "records": len(idx),
                         "entities": sum(len(records[i].entities) for i in idx),
                         **metrics([records[i] for i in idx], [preds[i] for i in idx])})
    finally:
        engine_module.to_model_script = script_module.to_model_script = convert
    print("| style | script | records | entities | P | R | F1 | F1 +assert |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        s = r["span"]
        print(f"| {r['style']} | {r['script']} | {r['records']} | {r['entities']} | {s['p']:.3f} | {s['r']:.3f} "
              f"| {s['f1']:.3f} | {r['assert']['f1']:.3f} |")
    print(f"({time.perf_counter() - t0:.0f} s)")
    if args.out:
        args.out.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
