"""Score several training runs side by side on the test splits (torch, FP32).

    python -m tcm_desktop.training.ablate --corpus work_data/corpus \
        --runs runs/abl/full runs/abl/nolex runs/abl/nolstm runs/abl/distil runs/abl/mlm \
        [--markdown OUT.md] [--json OUT.json] [--cache DIR]

Used for the ablations in the model card: the runs share data, seed and step
budget and differ in one component (lexicon features, BiLSTM, distillation,
MLM pre-training). The first run is the reference: each other run's change in
strict micro-F1 comes with a paired bootstrap 95% interval over test records,
so a difference inside seed-and-sample noise reads as such. Rare-entity
recall counts gold spans whose (text, label) occurs at most once in all train
splits, the entities the paper's lexicon features are meant to carry.
With ``--cache`` each run's test predictions are kept (keyed by its checkpoint's
hash), so a run can be scored as soon as it finishes and the table rebuilt later
without predicting again.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from tcm_desktop.text.lexicon import Lexicon
from tcm_desktop.training.export_ner import load_run
from tcm_desktop.training.metrics import paired_delta_ci, record_counts, score
from tcm_desktop.training.train_ner import SOURCES, load_corpus, predict

RARE_MAX_TRAIN_COUNT = 1
RARE_GROUPS = {"all": "rare recall (all tests)", "in_lexicon": "rare, in lexicon", "not_in_lexicon": "rare, not in lexicon",
               "team": "rare recall (team test)"}


def lexicon_words(runs: list[Path]) -> frozenset[str]:
    """Every term of the first run's lexicon (all categories): the words lexicon features can mark."""
    for run in runs:
        if (run / "lexicon.json").exists():
            lex = Lexicon.load(run / "lexicon.json")
            return frozenset().union(*(lex.terms(c) for c in lex.categories))
    return frozenset()


def describe(conf: dict) -> str:
    """What distinguishes a run, from its recorded arguments."""
    a = conf["args"]
    bits = []
    if a.get("no_lexicon") == "True":
        bits.append("no lexicon features")
    if a.get("no_lstm") == "True":
        bits.append("no BiLSTM")
    if a.get("teacher") not in (None, "None"):
        bits.append(f"distilled from `{a['teacher']}` (weight {a.get('kd_weight')}, T {a.get('kd_temperature')})")
    if a.get("init") not in (None, "None"):
        bits.append(f"initialised from `{a['init']}`")
    return ", ".join(bits) or "full model"


def steps_of(run: Path) -> int | None:
    """The number of optimisation steps the run took (from its log)."""
    log = run / "train.log"
    if not log.exists():
        return None
    last = None
    for line in log.read_text(encoding="utf-8").splitlines():
        ev = json.loads(line)
        if "step" in ev:
            last = ev["step"]
    return last


def cached_predictions(run: Path, sets: dict[str, list[dict]], cache: Path | None):
    """Test predictions of one run per source, from ``cache`` when its checkpoint is unchanged; also the run's config."""
    digest = hashlib.sha256((run / "model.pt").read_bytes()).hexdigest()
    conf = json.loads((run / "config.json").read_text(encoding="utf-8"))
    f = cache / f"{run.name}.json" if cache else None
    if f is not None and f.exists():
        saved = json.loads(f.read_text(encoding="utf-8"))
        if saved["model_sha256"] == digest and set(saved["pred"]) == set(sets):
            return {k: [[tuple(s) for s in p] for p in v] for k, v in saved["pred"].items()}, saved["params"], conf
    model, vocab, lexicon, conf = load_run(run)
    pred = {name: predict(model, vocab, lexicon, [r["text"] for r in recs], model.cfg.max_len) for name, recs in sets.items()}
    params = sum(p.numel() for p in model.parameters())
    if f is not None:
        cache.mkdir(parents=True, exist_ok=True)
        f.write_text(json.dumps({"model_sha256": digest, "params": params, "pred": pred}, ensure_ascii=False), encoding="utf-8")
    return pred, params, conf


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--runs", type=Path, nargs="+", required=True)
    ap.add_argument("--split", default="test")
    ap.add_argument("--markdown", type=Path)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--cache", type=Path, help="keep each run's predictions here")
    args = ap.parse_args(argv)
    corpus = load_corpus(args.corpus, SOURCES)
    sets = {name: src[args.split] for name, src in corpus.items() if src[args.split]}
    train_counts = Counter((r["text"][e["start"]:e["end"]], e["label"]) for src in corpus.values() for r in src["train"] for e in r["entities"])
    lexicon_terms = lexicon_words(args.runs)
    rows: dict[str, dict] = {}
    counts: dict[str, dict[str, np.ndarray]] = {}
    for run in args.runs:
        preds, params, conf = cached_predictions(run, sets, args.cache)
        row = {"what": describe(conf), "params": params, "steps": steps_of(run), "f1": {}, "macro_f1": {}}
        counts[run.name] = {}
        rare = {k: [0, 0] for k in RARE_GROUPS}  # group -> [found, gold]
        for name, recs in sets.items():
            labels = set(recs[0]["annotated"])
            pred = preds[name]
            gold = [[(e["start"], e["end"], e["label"]) for e in r["entities"]] for r in recs]
            res = score(gold, pred, labels)
            row["f1"][name] = res["micro"]["f1"]
            row["macro_f1"][name] = res["macro_f1"]
            gs = [{s for s in g if s[2] in labels} for g in gold]
            ps = [{s for s in p if s[2] in labels} for p in pred]
            counts[run.name][name] = record_counts(gs, ps)
            for r, g, p in zip(recs, gs, ps):
                for s in g:
                    surface = r["text"][s[0]:s[1]]
                    if train_counts[(surface, s[2])] <= RARE_MAX_TRAIN_COUNT:
                        for group in ("all", "in_lexicon" if surface in lexicon_terms else "not_in_lexicon") + (("team",) if name == "team" else ()):
                            rare[group][0] += s in p
                            rare[group][1] += 1
        row["rare"] = rare
        rows[run.name] = row
        print(run.name, json.dumps(row, ensure_ascii=False), flush=True)

    names = list(sets)
    ref = args.runs[0].name
    for run, row in rows.items():
        row["delta_ci"] = {}
        if run != ref:
            for n in names:
                lo, hi = paired_delta_ci(counts[ref][n], counts[run][n])
                row["delta_ci"][n] = [lo, hi]
    lines = ["| run | what differs | params | steps | " + " | ".join(f"{n}" for n in names) + " | team macro-F1 | "
             + " | ".join(RARE_GROUPS.values()) + " |",
             "|---|---|---:|---:|" + "---:|" * (len(names) + 1 + len(RARE_GROUPS))]
    for run, r in rows.items():
        cells = []
        for n in names:
            cell = f"{100 * r['f1'][n]:.2f}"
            if n in r["delta_ci"]:
                d = 100 * (r["f1"][n] - rows[ref]["f1"][n])
                lo, hi = (100 * x for x in r["delta_ci"][n])
                cell += f" ({d:+.1f}, {lo:+.1f}..{hi:+.1f})"
            cells.append(cell)
        team_macro = f"{100 * r['macro_f1']['team']:.2f}" if "team" in r["macro_f1"] else "–"
        lines.append(f"| {run} | {r['what']} | {r['params']:,} | {r['steps']} | " + " | ".join(cells)
                     + f" | {team_macro} | " + " | ".join(f"{100 * h / n:.1f} ({h}/{n})" if n else "–" for h, n in r["rare"].values()) + " |")
    lines += ["", f"Strict micro-F1 on each source's {args.split} split, scored on the categories it annotates. "
              f"In brackets: the change against `{ref}` and its paired bootstrap 95% interval (1,000 resamples of records). "
              f"Rare-entity recall: share of the gold spans whose text and label occur at most {RARE_MAX_TRAIN_COUNT} time(s) in all train splits that are found exactly, "
              "over all test sets, split by whether the span's text is a term of the model's lexicon (`lexicon.json` of the first run that has one), and on the team test set alone. "
              f"Scored on {datetime.date.today().isoformat()} by `python -m tcm_desktop.training.ablate --corpus work_data/corpus --runs "
              + " ".join(str(r) for r in args.runs) + "`."]
    md = "\n".join(lines) + "\n"
    print(md)
    if args.markdown:
        args.markdown.write_text(md, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
