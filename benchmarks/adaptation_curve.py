"""The learning curve of adaptation on a clinic whose style the shipped model has not seen.

    python benchmarks/adaptation_curve.py --sizes 25 50 100 200 --minutes 8 --out runs/adapt_curve [--threads 2]
    python benchmarks/adaptation_curve.py --report --out runs/adapt_curve --png docs/adaptation_curve.png

Data: ``resources/clinic_b`` (a digestive clinic writing SOAP shorthand; see its
README). ``test.tcm.txt`` (50 records) is only ever scored; the first N records
of the train files play "the doctor's reviewed records".

For each N:

- **dictionary alone** (and ``dictionary_features``: the same list with the
  exact-match rule off, i.e. only the lexicon-feature hook): what the doctor's review of those N records would have
  put in the clinic dictionary — every gold entity the shipped model did not
  find exactly (missed, wrong boundary or wrong label), i.e. the ones the doctor
  had to add or correct — applied to the shipped model without retraining;
- **adapt**: ``tcm-desktop adapt`` on a database holding those N records as
  reviewed (it keeps its own held-out fifth of them aside, as in the app), timed
  end to end (fine-tuning + export + INT8 + its two comparisons).

Each is scored on the 50 test records with the app's engine (strict span
micro-F1, 23 categories) against the shipped model, with a paired bootstrap 95%
interval of the difference (1000 resamples of the test records). Results go to
``OUT/results.json`` after every step, so a run cut short keeps what it measured.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tcm_desktop.config import models_dir, resources_dir  # noqa: E402


def load_clinic(root: Path) -> tuple[list[dict], list[dict]]:
    """(train pool in file order, test records) as corpus dicts."""
    from tcm_desktop.text.markup import parse_record_file

    def read(paths):
        return [{"id": r.id, "text": r.text, "entities": [e.to_dict() for e in r.entities]}
                for p in paths for r in parse_record_file(p)]

    return read(sorted(root.glob("train_*.tcm.txt"))), read([root / "test.tcm.txt"])


def doctor_corrections(model: Path, records: list[dict]) -> list[tuple[str, str]]:
    """The (term, label) pairs the doctor would add or relabel reviewing the shipped model's output."""
    from tcm_desktop.text.clinic_dictionary import most_common_label
    from tcm_desktop.text.engine import StructuringEngine

    engine = StructuringEngine(model)
    rows = []
    for r, out in zip(records, engine.structure_many([(r["id"], r["text"]) for r in records])):
        found = {(e.start, e.end, e.label) for e in out.entities}
        rows += [(r["text"][e["start"]:e["end"]], e["label"]) for e in r["entities"]
                 if (e["start"], e["end"], e["label"]) not in found]
    return most_common_label(rows)


def dictionary_scores(model: Path, pairs: list[tuple[str, str]], test: list[dict], rule: bool = True) -> dict:
    import numpy as np

    from tcm_desktop.schema import LABELS
    from tcm_desktop.text.clinic_dictionary import ClinicDictionary
    from tcm_desktop.text.engine import StructuringEngine
    from tcm_desktop.training.metrics import score

    engine = StructuringEngine(model, dictionary=ClinicDictionary(dict(pairs), rule=rule))
    pred = [[(e.start, e.end, e.label) for e in r.entities]
            for r in engine.structure_many([(str(i), r["text"]) for i, r in enumerate(test)])]
    gold = [[(e["start"], e["end"], e["label"]) for e in r["entities"]] for r in test]
    counts = np.array([(len(set(g) & set(p)), len(set(p)), len(set(g))) for g, p in zip(gold, pred)], dtype=np.int64)
    return {**score(gold, pred, LABELS), "counts": counts.tolist()}


def reviewed_db(path: Path, records: list[dict]) -> Path:
    from tcm_desktop.records.database import Database
    from tcm_desktop.structured import FoundEntity, Prescription, StructuredRecord

    db = Database(path)
    for r in records:
        ents = [FoundEntity(e["start"], e["end"], e["label"], r["text"][e["start"]:e["end"]], status="accepted")
                for e in r["entities"]]
        db.save_record(StructuredRecord(r["id"], r["text"], ents, [], Prescription(), "clinic_b"))
    db.close()
    return path


def row(name: str, n: int, base: dict, new: dict, minutes: float | None, note: str = "") -> dict:
    from tcm_desktop.training.adapt import delta_interval

    lo, hi = delta_interval(base, new)
    return {"method": name, "n": n, "f1_before": base["micro"]["f1"], "f1_after": new["micro"]["f1"],
            "delta_ci": [lo, hi], "minutes": minutes, "note": note}


def run(args) -> dict:
    from tcm_desktop.training.adapt import adapt, engine_scores

    train, test = load_clinic(args.data)
    model = args.model
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    res_path = out / "results.json"
    results = json.loads(res_path.read_text()) if res_path.exists() else {"rows": []}
    base = engine_scores(model, test)
    results.update(data=str(args.data), test_records=len(test), train_pool=len(train), base_version=base["version"])
    if "adapt" in args.methods:
        results.update(minutes_budget=args.minutes, threads=args.threads)
    done = {(r["method"], r["n"]) for r in results["rows"]}

    def save():
        res_path.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")

    save()
    for n in args.sizes:
        if n > len(train):
            print(f"skip N={n}: only {len(train)} train records", flush=True)
            continue
        recs = train[:n]
        for method in ("dictionary", "dictionary_features"):
            if method in args.methods and (method, n) not in done:
                t0 = time.time()
                pairs = doctor_corrections(model, recs)
                new = dictionary_scores(model, pairs, test, rule=method == "dictionary")
                note = f"{len(pairs)} terms" + ("" if method == "dictionary" else "; lexicon features only, rule off")
                results["rows"].append(row(method, n, base, new, (time.time() - t0) / 60, note))
                save()
        method = "adapt" if args.replay_ratio == 1.0 else f"adapt_replay{args.replay_ratio:g}"
        if "adapt" in args.methods and (method, n) not in done:
            with tempfile.TemporaryDirectory() as tmp:
                db = reviewed_db(Path(tmp) / "clinic.db", recs)
                t0, c0 = time.time(), time.process_time()
                r = adapt(db, Path(tmp) / "models" / "m", base=model, minutes=args.minutes, threads=args.threads,
                          lr=args.lr, replay_ratio=args.replay_ratio, keep_refused=True)
                minutes, cpu = (time.time() - t0) / 60, (time.process_time() - c0) / 60
                new = engine_scores(r.out or r.card.parent / "artifact", test)
            note = ("accepted" if r.accepted else "refused by the guard (scored anyway)") + f"; {cpu:.1f} CPU-min; {r.reason}"
            results["rows"].append(row(method, n, base, new, minutes, note))
            save()
    return results


def report(out: Path, png: Path | None = None) -> str:
    """Markdown table and a PNG plot (PIL) from ``OUT/results.json``."""
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    lines = [f"Test: {res['test_records']} clinic B records; base `{res['base_version']}`; "
             f"fine-tuning budget {res['minutes_budget']} min, {res.get('threads') or 'all'} threads.", "",
             "| method | N reviewed | micro-F1 before | after | Δ [95% CI] | minutes | note |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for r in sorted(res["rows"], key=lambda r: (r["method"], r["n"])):
        lo, hi = r["delta_ci"]
        lines.append(f"| {r['method']} | {r['n']} | {100 * r['f1_before']:.1f} | {100 * r['f1_after']:.1f} | "
                     f"{100 * (r['f1_after'] - r['f1_before']):+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}] | "
                     f"{r['minutes']:.1f} | {r['note']} |")
    plot(res, png or out / "adaptation_curve.png")
    return "\n".join(lines) + "\n"


def plot(res: dict, path: Path) -> None:
    from PIL import Image, ImageDraw

    w, h, m = 640, 400, 60
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    rows = res["rows"]
    if not rows:
        img.save(path)
        return
    ns = sorted({r["n"] for r in rows})
    ys = [r["f1_after"] for r in rows] + [r["f1_before"] for r in rows]
    lo_y, hi_y = max(0.0, min(ys) - 0.05), min(1.0, max(ys) + 0.05)

    def xy(n, f):
        x = m + (w - 2 * m) * (ns.index(n) / max(1, len(ns) - 1))
        return x, h - m - (h - 2 * m) * (f - lo_y) / (hi_y - lo_y)

    d.line([(m, h - m), (w - m, h - m)], fill="black")
    d.line([(m, m), (m, h - m)], fill="black")
    for n in ns:
        x, _ = xy(n, lo_y)
        d.text((x - 8, h - m + 8), str(n), fill="black")
    for k in range(5):
        f = lo_y + (hi_y - lo_y) * k / 4
        _, y = xy(ns[0], f)
        d.text((8, y - 6), f"{100 * f:.0f}", fill="black")
    base = rows[0]["f1_before"]
    d.line([xy(ns[0], base), xy(ns[-1], base)], fill="gray", width=1)
    colours = {"adapt": "blue", "adapt_replay2": "purple", "dictionary": "green", "dictionary_features": "orange"}
    for method, colour in colours.items():
        pts = sorted((r["n"], r["f1_after"]) for r in rows if r["method"] == method)
        if len(pts) > 1:
            d.line([xy(n, f) for n, f in pts], fill=colour, width=2)
        for n, f in pts:
            x, y = xy(n, f)
            d.ellipse([x - 4, y - 4, x + 4, y + 4], fill=colour)
    d.text((m, 10), "clinic B test micro-F1 vs N reviewed (blue adapt, green dictionary, orange features only, gray shipped)", fill="black")
    d.text((w // 2 - 60, h - 25), "N reviewed records", fill="black")
    img.save(path)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=resources_dir() / "clinic_b")
    ap.add_argument("--model", type=Path, default=models_dir() / "ner")
    ap.add_argument("--out", type=Path, default=Path("runs/adapt_curve"))
    ap.add_argument("--sizes", type=int, nargs="+", default=[25, 50, 100, 200])
    ap.add_argument("--methods", nargs="+", default=["dictionary", "dictionary_features", "adapt"],
                    choices=["dictionary", "dictionary_features", "adapt"])
    ap.add_argument("--minutes", type=float, default=8.0)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--replay-ratio", type=float, default=1.0, help="team replay characters per clinic character")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--png", type=Path, help="where the plot goes (default OUT/adaptation_curve.png)")
    ap.add_argument("--report", action="store_true", help="only print the table and write the PNG from OUT/results.json")
    args = ap.parse_args(argv)
    if not args.report:
        run(args)
    print(report(args.out, args.png))
    return 0


if __name__ == "__main__":
    sys.exit(main())
