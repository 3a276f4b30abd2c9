"""OCR on paper: character error rate before/after lexicon correction, entity F1 through OCR, time per page.

    python benchmarks/ocr_eval.py --pages 40 --level typical --out benchmarks/results/ocr_typical.json
    python benchmarks/ocr_eval.py --pages 40 --level hard --out benchmarks/results/ocr_hard.json

Data: the team's TEST records (``resources/annotated/test``, see
``tcm_desktop.training.team_records``), every third one from the first, up
to ``--pages``; each is typeset on one A4 page with
:mod:`tcm_desktop.ocr.synthetic` (font face, size 22-36 px, rotation,
perspective, uneven light, blur, JPEG quality drawn per page from a seeded
generator; text that does not fit one page is cut and the reference cut with
it). CER = Levenshtein distance / reference length, whitespace removed on
both sides, summed over pages. Entity F1 compares, per record, the multiset of
(label, surface text) found by the shipped text model with the team's gold
entities of the same (cut) text, so typed and OCR text are scored alike
whatever their offsets. A correction is "right" when each character it
changes lands, after aligning the OCR text with the reference, on the
reference's own character. The time is the wall time of reading one page
(deskew + detection + recognition) with the app's recogniser settings
(``reader.DEFAULT_SETTINGS``, compared in ``ocr_speed.py``; 2 threads),
and the CPU time of the process for it (less sensitive to other programs
on the machine; the 1-minute load average is recorded beside it).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from tcm_desktop.ocr.correction import Corrector, apply
from tcm_desktop.ocr.metrics import edit_distance, squeeze
from tcm_desktop.ocr.reader import LOW_CONFIDENCE, OcrDocument, read_image
from tcm_desktop.ocr.synthetic import random_distortion, render_page
from tcm_desktop.text.engine import StructuringEngine
from tcm_desktop.training.team_records import load_splits


def verdicts(ocr_text: str, ref: str, corrections) -> list[str]:
    """Per correction: "right" when every changed character lands on the reference's character, else "wrong";
    "unaligned" when the OCR text around it does not line up with the reference (difflib alignment)."""
    from difflib import SequenceMatcher

    keep = [i for i, ch in enumerate(ocr_text) if not ch.isspace()]
    squeezed = "".join(ocr_text[i] for i in keep)
    to_ref: dict[int, int] = {}
    for op, i1, i2, j1, j2 in SequenceMatcher(None, squeezed, ref, autojunk=False).get_opcodes():
        if op in ("equal", "replace") and i2 - i1 == j2 - j1:
            to_ref.update({keep[i1 + k]: j1 + k for k in range(i2 - i1)})
    out = []
    for c in corrections:
        refs = [to_ref.get(ch.offset) for ch in c.changes]
        if any(r is None for r in refs):
            out.append("unaligned")
        else:
            out.append("right" if all(ref[r] == ch.after for r, ch in zip(refs, c.changes)) else "wrong")
    return out


def bag(pairs) -> Counter:
    return Counter((label, squeeze(text)) for label, text in pairs)


def prf(gold: Counter, pred: Counter) -> tuple[int, int, int]:
    tp = sum((gold & pred).values())
    return tp, sum(pred.values()), sum(gold.values())


def f1(tp: int, n_pred: int, n_gold: int) -> float:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return 2 * p * r / (p + r) if p + r else 0.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=40)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--level", choices=("typical", "hard"), default="typical", help="distortion range of the pages")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/ocr_typical.json"))
    ap.add_argument("--save-pages", type=Path, help="also write the rendered pages (PNG) here")
    args = ap.parse_args(argv)

    records = load_splits()["test"][:: 3][: args.pages]
    rng = random.Random(args.seed)
    engine = StructuringEngine()
    corrector = Corrector.from_model()
    totals = Counter()
    f1s = {k: [0, 0, 0] for k in ("typed", "ocr", "ocr_corrected")}
    per_page = []
    times: list[float] = []
    cpu: list[float] = []
    load_before = os.getloadavg()[0]
    for k, rec in enumerate(records):
        d = random_distortion(rng, args.level)
        img, kept = render_page(rec.text, d, seed=args.seed * 1000 + k)
        if args.save_pages:
            args.save_pages.mkdir(parents=True, exist_ok=True)
            img.save(args.save_pages / f"{rec.id}.png")
        cpu0 = time.process_time()
        page = read_image(np.asarray(img))
        cpu.append(time.process_time() - cpu0)
        times.append(page.seconds)
        doc = OcrDocument.from_pages(rec.id, [page])
        corrections = corrector.propose(doc.text, doc.confidences())
        fixed = apply(doc.text, corrections)
        ref = squeeze(kept)
        e0, e1 = edit_distance(squeeze(doc.text), ref), edit_distance(squeeze(fixed), ref)
        verdict = verdicts(doc.text, ref, corrections)
        totals.update(verdict)
        totals.update(ref_chars=len(ref), err_before=e0, err_after=e1, corrections=len(corrections))
        gold = bag((e.label, kept[e.start : e.end]) for e in rec.entities if e.end <= len(kept))
        for key, text in (("typed", kept), ("ocr", doc.text), ("ocr_corrected", fixed)):
            found = engine.structure(text, rec.id).entities
            for i, v in enumerate(prf(gold, bag((e.label, e.text) for e in found))):
                f1s[key][i] += v
        per_page.append({"id": rec.id, "distortion": d.to_dict(), "chars": len(ref), "errors_before": e0,
                         "errors_after": e1, "corrections": [(c.before, c.after, v) for c, v in zip(corrections, verdict)],
                         "mean_confidence": round(doc.mean_confidence, 4), "angle": page.angle,
                         "seconds": round(page.seconds, 3), "cpu_seconds": round(cpu[-1], 3)})
        print(f"{k + 1}/{len(records)} {rec.id} cer {e0 / len(ref):.4f} -> {e1 / len(ref):.4f} "
              f"{len(corrections)} corr {page.seconds:.2f}s", file=sys.stderr, flush=True)
    result = {
        "data": f"team TEST split, every 3rd record, {len(records)} pages, {args.level} distortions, seed {args.seed}",
        "low_confidence_threshold": LOW_CONFIDENCE,
        "cer_before": round(totals["err_before"] / totals["ref_chars"], 4),
        "cer_after": round(totals["err_after"] / totals["ref_chars"], 4),
        "reference_chars": totals["ref_chars"],
        "corrections": totals["corrections"],
        "corrections_right": totals["right"], "corrections_wrong": totals["wrong"],
        "corrections_unaligned": totals["unaligned"],
        "pages_made_worse": sum(p["errors_after"] > p["errors_before"] for p in per_page),
        "entity_f1": {k: round(f1(*v), 4) for k, v in f1s.items()},
        "entity_counts": {k: dict(zip(("tp", "pred", "gold"), v)) for k, v in f1s.items()},
        "seconds_per_page": {"median": round(float(np.median(times)), 3), "p90": round(float(np.percentile(times, 90)), 3),
                             "max": round(max(times), 3)},
        "cpu_seconds_per_page": {"median": round(float(np.median(cpu)), 3), "p90": round(float(np.percentile(cpu, 90)), 3)},
        "load_average_1min": {"start": round(load_before, 2), "end": round(os.getloadavg()[0], 2)},
        "threads": 2, "cpu_count": os.cpu_count(), "platform": platform.platform(),
        "pages": per_page,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in result.items() if k != "pages"}, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
