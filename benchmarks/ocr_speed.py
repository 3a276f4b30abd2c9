"""RapidOCR settings compared on the same pages: CPU time per page and character error rate.

    python benchmarks/ocr_speed.py --pages 8 --level typical --out benchmarks/results/ocr_speed_typical.json
    python benchmarks/ocr_speed.py --pages 8 --level hard --out benchmarks/results/ocr_speed_hard.json

The pages are the first ``--pages`` of ``benchmarks/ocr_eval.py`` (the team's TEST
records, every third one, same seeded distortions). Every page is read once
with every setting, in a rotating order (page 1: A B C…, page 2: B C … A), so
a change in the load of the machine falls on all settings alike. The measure
is the CPU time of this process for ``read_image`` (deskew, detection,
recognition; all threads), which a shared machine disturbs far less than the
wall time; wall time and the 1-minute load average are recorded beside it.
CER is as in ``ocr_eval.py`` (before any lexicon correction): a setting is
only worth keeping if it does not raise it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from tcm_desktop.ocr.metrics import edit_distance, squeeze
from tcm_desktop.ocr.reader import DEFAULT_SETTINGS, EngineSettings, Recogniser, read_image
from tcm_desktop.ocr.synthetic import random_distortion, render_page
from tcm_desktop.training.team_records import load_splits

#: what RapidOCR does out of the box (detection at the page's full size, spinning threads)
RAPIDOCR_DEFAULTS = EngineSettings(det_max_side=0, rec_batch_num=6, use_cls=True, spinning=True)
CANDIDATES: dict[str, EngineSettings] = {
    "rapidocr_defaults": RAPIDOCR_DEFAULTS,
    "no_spinning": replace(RAPIDOCR_DEFAULTS, spinning=False),
    "no_angle_classifier": replace(RAPIDOCR_DEFAULTS, use_cls=False),
    "rec_batch_12": replace(RAPIDOCR_DEFAULTS, rec_batch_num=12),
    "det_max_1280": replace(RAPIDOCR_DEFAULTS, det_max_side=1280),
    "det_max_960": replace(RAPIDOCR_DEFAULTS, det_max_side=960),
    "det_max_800_no_spinning": replace(RAPIDOCR_DEFAULTS, det_max_side=800, spinning=False),
    "det_max_960_no_spinning": replace(RAPIDOCR_DEFAULTS, det_max_side=960, spinning=False),
    "det_max_960_no_spinning_no_cls": replace(RAPIDOCR_DEFAULTS, det_max_side=960, spinning=False, use_cls=False),
    "det_max_1280_no_spinning": replace(RAPIDOCR_DEFAULTS, det_max_side=1280, spinning=False),
    "det_max_1280_no_spinning_rec_batch_3": replace(RAPIDOCR_DEFAULTS, det_max_side=1280, spinning=False,
                                                    rec_batch_num=3),
    "det_max_1280_no_spinning_rec_batch_1": replace(RAPIDOCR_DEFAULTS, det_max_side=1280, spinning=False,
                                                    rec_batch_num=1),
    "app": DEFAULT_SETTINGS,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=8)
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--level", choices=("typical", "hard"), default="typical")
    ap.add_argument("--settings", nargs="*", default=list(CANDIDATES), choices=list(CANDIDATES))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/ocr_speed_typical.json"))
    args = ap.parse_args(argv)

    records = load_splits()["test"][::3][: args.pages]
    rng = random.Random(args.seed)
    pages = []
    for k, rec in enumerate(records):  # the same pages, in the same order, as ocr_eval.py
        img, kept = render_page(rec.text, random_distortion(rng, args.level), seed=args.seed * 1000 + k)
        pages.append((rec.id, np.asarray(img), squeeze(kept)))
    engines = {name: Recogniser(CANDIDATES[name]) for name in args.settings}
    for eng in engines.values():  # first run of each session (allocations) outside the measurement
        read_image(pages[0][1], engine=eng)
    cpu = {n: [] for n in engines}
    wall = {n: [] for n in engines}
    errors = {n: 0 for n in engines}
    loads = [os.getloadavg()[0]]
    names = list(engines)
    for k, (rid, image, ref) in enumerate(pages):
        for name in names[k % len(names):] + names[: k % len(names)]:
            c0 = time.process_time()
            page = read_image(image, engine=engines[name])
            cpu[name].append(time.process_time() - c0)
            wall[name].append(page.seconds)
            errors[name] += edit_distance(squeeze("".join(ln.text + "\n" for ln in page.lines)), ref)
        loads.append(os.getloadavg()[0])
        print(f"{k + 1}/{len(pages)} {rid} load {loads[-1]:.1f} "
              + " ".join(f"{n} {cpu[n][-1]:.2f}s" for n in names), file=sys.stderr, flush=True)
    ref_chars = sum(len(r) for _, _, r in pages)
    result = {
        "data": f"team TEST split, every 3rd record, first {len(pages)} pages of ocr_eval.py, {args.level}, "
                f"seed {args.seed}",
        "measure": "CPU seconds of the process per page (all threads), read_image only",
        "reference_chars": ref_chars,
        "load_average_1min": {"min": round(min(loads), 2), "max": round(max(loads), 2)},
        "cpu_count": os.cpu_count(), "platform": platform.platform(),
        "settings": {
            n: {**asdict(CANDIDATES[n]),
                "cpu_seconds": {"median": round(float(np.median(cpu[n])), 3),
                                "p90": round(float(np.percentile(cpu[n], 90)), 3),
                                "total": round(float(sum(cpu[n])), 2)},
                "wall_seconds": {"median": round(float(np.median(wall[n])), 3),
                                 "p90": round(float(np.percentile(wall[n], 90)), 3)},
                "cer": round(errors[n] / ref_chars, 4), "errors": errors[n]}
            for n in names},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    for n in names:
        s = result["settings"][n]
        print(f"{n:22s} cpu median {s['cpu_seconds']['median']:.2f}s p90 {s['cpu_seconds']['p90']:.2f}s "
              f"total {s['cpu_seconds']['total']:.1f}s  wall median {s['wall_seconds']['median']:.2f}s  "
              f"CER {s['cer']:.4f} ({s['errors']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
