"""Adapt the text model to one clinic from the doctor's reviewed records, on the clinic's PC.

    tcm-desktop adapt [--db PATH] [--out DIR] [--minutes N] [--base DIR]
    python -m tcm_desktop.training.adapt ...   (the same)

What it does, and why each step:

1. **Labels only from review.** A record counts when every entity of its current
   version was reviewed by the doctor (``accepted``/``corrected``/``added``;
   deleted ones are gone) — then the record is fully labelled. A record with
   any ``unreviewed`` entity is left out: unreviewed model output is never a
   label (training on it would only teach the model its own mistakes).
2. **A held-out slice.** About a fifth of the reviewed records (by a hash of the
   record id, so the slice is stable as records are added) is never trained on;
   old and new model are compared on it.
3. **Replay.** The team's training records are mixed in (about as many windows
   per epoch as the clinic's, repeated ``--clinic-weight`` times) so the model
   does not forget what it knew.
4. **The base.** ``--base`` is a training run (``model.pt``) or a model artifact;
   by default the shipped ``models/ner``. An artifact is rebuilt into torch
   weights exactly from its INT8 file (``artifact_base``), so no FP32 copy is
   shipped. The shipped model is already pruned (FFN 384 of 1200), and
   fine-tuning keeps that shape, so there is nothing left to prune: the result is
   exported, parity-checked against torch and quantized to INT8 exactly like the
   shipped model (``export_ner``, in a child process).
5. **A guarded result.** The new model is refused — and not written where the
   app looks for models — when it is worse than the base on the clinic's held-out
   slice, or more than one F1 point worse on the team test set; ``MODEL_CARD.md``
   says why. Otherwise the artifact goes into a new versioned folder (by default
   ``<user data>/models/<version>``); the shipped model is never touched.

Progress is printed as one JSON line per event (``{"event": ..., ...}``) so the
app can run this as a separate process and show it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tcm_desktop.schema import LABELS

HOLDOUT_PERCENT = 20
MIN_REVIEWED = 10
MAX_TEAM_DROP = 0.01
REVIEWED = ("accepted", "corrected", "added")


class AdaptError(RuntimeError):
    """Adaptation cannot run (no reviewed records, bad base…): one sentence for the user."""


@dataclass
class AdaptResult:
    accepted: bool
    reason: str
    version: str
    out: Path | None
    card: Path
    comparison: dict = field(default_factory=dict)


# -- data ----------------------------------------------------------------------
def reviewed_records(db_path: Path, passphrase: str | None = None) -> list[dict]:
    """Corpus-format records (``id, text, entities, annotated``) the doctor fully reviewed."""
    from tcm_desktop.records.database import Database

    out = []
    db = Database(db_path, passphrase=passphrase)
    try:
        ids = [row[0] for row in db.db.execute("SELECT id FROM records ORDER BY id").fetchall()]
        for rid in ids:
            rec = db.load_record(rid)
            if not rec.entities or any(e.status not in REVIEWED for e in rec.entities):
                continue
            out.append({"id": rid, "text": rec.text, "annotated": list(LABELS),
                        "entities": [{"start": e.start, "end": e.end, "label": e.label} for e in rec.entities]})
    finally:
        db.close()
    return out


def is_holdout(record_id: str, percent: int = HOLDOUT_PERCENT) -> bool:
    from tcm_desktop.training.team_records import stable_bucket

    return stable_bucket(record_id, 100) < percent


def split_reviewed(records: list[dict], percent: int = HOLDOUT_PERCENT) -> tuple[list[dict], list[dict]]:
    """(train, held-out); at least one record on each side."""
    train = [r for r in records if not is_holdout(r["id"], percent)]
    held = [r for r in records if is_holdout(r["id"], percent)]
    if not held:
        held, train = train[-1:], train[:-1]
    if not train:
        train, held = held[:1], held[1:]
    return train, held


def _write_jsonl(path: Path, recs: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in recs:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


# -- scoring -------------------------------------------------------------------
def engine_scores(model_dir: Path, recs: list[dict]) -> dict:
    """Micro P/R/F1 (all 23 categories) with the app's engine, plus per-record counts for the bootstrap."""
    import numpy as np

    from tcm_desktop.text.engine import StructuringEngine
    from tcm_desktop.training.metrics import score

    engine = StructuringEngine(model_dir)
    pred = [[(e.start, e.end, e.label) for e in r.entities]
            for r in engine.structure_many([(str(i), r["text"]) for i, r in enumerate(recs)])]
    gold = [[(e["start"], e["end"], e["label"]) for e in r["entities"]] for r in recs]
    res = score(gold, pred, LABELS)
    counts = np.array([(len(set(g) & set(p)), len(set(p)), len(set(g))) for g, p in zip(gold, pred)], dtype=np.int64)
    return {"micro": res["micro"], "macro_f1": res["macro_f1"], "counts": counts.tolist(), "version": engine.version}


def delta_interval(old: dict, new: dict) -> tuple[float, float]:
    import numpy as np

    from tcm_desktop.training.metrics import paired_delta_ci

    return paired_delta_ci(np.array(old["counts"]), np.array(new["counts"]))


# -- the run -------------------------------------------------------------------
def adapt(
    db: Path,
    out: Path | None = None,
    base: Path | None = None,
    minutes: float = 10.0,
    max_steps: int = 0,
    lr: float = 3e-4,
    clinic_weight: int = 3,
    replay_ratio: float = 2.0,
    threads: int = 0,
    seed: int = 13,
    holdout_percent: int = HOLDOUT_PERCENT,
    min_reviewed: int = MIN_REVIEWED,
    team_test: list[dict] | None = None,
    replay: list[dict] | None = None,
    passphrase: str | None = None,
    emit: Callable[..., None] | None = None,
    keep_refused: bool = False,
) -> AdaptResult:
    """Run the whole adaptation; see the module docstring.

    ``keep_refused`` leaves a refused model in ``<out>.work/artifact`` (never
    where the app looks) so an experiment can still score it.
    """
    from tcm_desktop.artifacts import write_checksums
    from tcm_desktop.config import models_dir, user_dir
    from tcm_desktop.text.runtime import ARTIFACT_FILES
    from tcm_desktop.training import team_records, train_ner
    from tcm_desktop.training.artifact_base import RebuildError, run_from_artifact

    emit = emit or _print_event
    t0 = time.time()
    records = reviewed_records(db, passphrase)
    if len(records) < min_reviewed:
        raise AdaptError(f"only {len(records)} fully reviewed records in {db}; review at least {min_reviewed} first")
    train, held = split_reviewed(records, holdout_percent)
    emit("data", reviewed=len(records), train=len(train), held_out=len(held))

    base = base or models_dir() / "ner"
    version = "ner-adapt-" + dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    out = out or user_dir() / "models" / version
    if out.exists() and any(out.iterdir()):
        raise AdaptError(f"{out} is not empty; choose another --out")
    work = out.parent / (out.name + ".work")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    # base: a training run as is, or an artifact rebuilt into torch weights
    if (base / "model.pt").exists():
        base_run, base_model = base, None
    elif (base / ARTIFACT_FILES["int8"]).exists():
        emit("base", source=str(base))
        try:
            base_run = run_from_artifact(base, work / "base")
        except RebuildError as exc:
            raise AdaptError(str(exc)) from exc
        base_model = base
    else:
        raise AdaptError(f"{base} is neither a model folder nor a training run")

    splits = team_records.load_splits() if replay is None or team_test is None else {}
    replay = replay if replay is not None else [r.to_dict() for r in splits["train"]]
    team_test = team_test if team_test is not None else [r.to_dict() for r in splits["test"]]
    corpus = work / "corpus"
    _write_jsonl(corpus / "team" / "train.jsonl", train)  # "team" = the source train_ner weights up
    # dev sets are only logged: train_ner evaluates once, at the end, so it keeps the final weights
    _write_jsonl(corpus / "team" / "dev.jsonl", train[: max(1, len(train) // 5)])
    _write_jsonl(corpus / "team" / "test.jsonl", [])
    _write_jsonl(corpus / "replay" / "train.jsonl", replay)
    _write_jsonl(corpus / "replay" / "dev.jsonl", replay[:10])
    _write_jsonl(corpus / "replay" / "test.jsonl", [])
    conf = json.loads((base_run / "config.json").read_text(encoding="utf-8"))
    max_len = int(conf["model"]["max_len"])
    # replay ``replay_ratio`` times as many characters as the (repeated) clinic records give
    clinic_chars = sum(len(r["text"]) for r in train) * clinic_weight * replay_ratio
    replay_chars = max(1, sum(len(r["text"]) for r in replay))
    fraction = min(1.0, max(0.05, clinic_chars / replay_chars))
    run = work / "run"
    emit("train", minutes=minutes, replay_fraction=round(fraction, 3))
    argv = ["--corpus", str(corpus), "--out", str(run), "--init", str(base_run), "--sources", "team", "replay",
            "--minutes", str(minutes), "--lr", str(lr), "--team-weight", str(clinic_weight),
            "--public-fraction", str(fraction), "--eval-minutes", str(10 * minutes + 1), "--max-len", str(max_len),
            "--seed", str(seed), "--threads", str(threads)]
    if max_steps:
        argv += ["--max-steps", str(max_steps)]
    rc = train_ner.main(argv)
    if rc != 0:
        raise AdaptError(f"training failed (exit {rc}); see {run / 'train.log'}")

    emit("export")
    artifact = work / "artifact"
    base_version = json.loads((base_run / "config.json").read_text(encoding="utf-8"))["args"].get("version", str(base))
    export_artifact(run, artifact, {"version": version, "run": "adapt", "base": base_version,
                                    "adapted_on": {"reviewed_records": len(train), "held_out": len(held)}})
    if base_model is not None:  # keep the base's normalisation tables (they need no shared data)
        shutil.copy(base_model / ARTIFACT_FILES["normalization"], artifact / ARTIFACT_FILES["normalization"])
        write_checksums(artifact)

    emit("compare", held_out=len(held), team_test=len(team_test))
    old_dir = base_model if base_model is not None else export_artifact(base_run, work / "base_artifact", {})
    comparison = {"clinic_held_out": {"old": engine_scores(old_dir, held), "new": engine_scores(artifact, held)},
                  "team_test": {"old": engine_scores(old_dir, team_test), "new": engine_scores(artifact, team_test)}}
    for v in comparison.values():
        v["delta_ci"] = delta_interval(v["old"], v["new"]) if len(v["old"]["counts"]) > 1 else (0.0, 0.0)
    accepted, reason = verdict(comparison)
    minutes_taken = (time.time() - t0) / 60
    card = model_card(version, base_version, comparison, accepted, reason, len(train), len(held), minutes_taken)
    if accepted:
        (artifact / "MODEL_CARD.md").write_text(card, encoding="utf-8")
        (artifact / "adaptation.json").write_text(json.dumps(_public(comparison), indent=1), encoding="utf-8")
        out.parent.mkdir(parents=True, exist_ok=True)
        if out.exists():
            out.rmdir()
        shutil.move(str(artifact), str(out))
        shutil.rmtree(work, ignore_errors=True)
        card_path = out / "MODEL_CARD.md"
    else:
        card_path = work / "MODEL_CARD.md"
        card_path.write_text(card, encoding="utf-8")
        if not keep_refused:
            shutil.rmtree(artifact, ignore_errors=True)
    emit("done", accepted=accepted, reason=reason, version=version, out=str(out) if accepted else None,
         card=str(card_path), minutes=round(minutes_taken, 1))
    return AdaptResult(accepted, reason, version, out if accepted else None, card_path, _public(comparison))


def export_artifact(run: Path, out: Path, notes: dict) -> Path:
    """``python -m tcm_desktop.training.export_ner`` in a child process, then ``notes`` into ``model.json``.

    A child process because torch's dynamo exporter, run a second time in one
    process, can bake the first export's sequence length into the graph (the
    parity check then fails); one export per process is how the shipped model
    was made too.
    """
    import subprocess

    from tcm_desktop.artifacts import write_checksums

    root = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
    proc = subprocess.run([sys.executable, "-m", "tcm_desktop.training.export_ner", "--run", str(run), "--out", str(out)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise AdaptError(f"export of {run} failed: {last}")
    if notes:
        meta_path = out / "model.json"
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        meta.update(notes)
        meta_path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
        write_checksums(out)
    return out


def verdict(comparison: dict) -> tuple[bool, str]:
    """Refuse a model worse on the clinic's held-out slice or > 1 point worse on the team test set."""
    c, t = comparison["clinic_held_out"], comparison["team_test"]
    c_old, c_new = c["old"]["micro"]["f1"], c["new"]["micro"]["f1"]
    t_old, t_new = t["old"]["micro"]["f1"], t["new"]["micro"]["f1"]
    if c_new < c_old:
        return False, (f"refused: the new model is worse on the clinic's held-out records "
                       f"(micro-F1 {100 * c_new:.1f} < {100 * c_old:.1f}); review more records and try again")
    if t_new < t_old - MAX_TEAM_DROP:
        return False, (f"refused: the new model forgets too much: team test micro-F1 {100 * t_new:.1f} "
                       f"is more than 1 point below {100 * t_old:.1f}")
    return True, (f"accepted: clinic held-out micro-F1 {100 * c_old:.1f} -> {100 * c_new:.1f}, "
                  f"team test {100 * t_old:.1f} -> {100 * t_new:.1f}")


def _public(comparison: dict) -> dict:
    """The comparison without per-record counts (what the card and the app show)."""
    return {k: {"old": {m: v["old"][m] for m in ("micro", "macro_f1", "version")},
                "new": {m: v["new"][m] for m in ("micro", "macro_f1", "version")},
                "delta_ci": list(v["delta_ci"])} for k, v in comparison.items()}


def model_card(version: str, base: str, comparison: dict, accepted: bool, reason: str,
               n_train: int, n_held: int, minutes: float) -> str:
    rows = []
    for name, title in (("clinic_held_out", f"clinic held-out ({n_held} reviewed records, never trained on)"),
                        ("team_test", f"team test set ({len(comparison['team_test']['old']['counts'])} records)")):
        v = comparison[name]
        lo, hi = v["delta_ci"]
        o, n = v["old"]["micro"], v["new"]["micro"]
        rows.append(f"| {title} | {100 * o['f1']:.2f} | {100 * n['f1']:.2f} | {100 * (n['f1'] - o['f1']):+.2f} "
                    f"[{100 * lo:+.2f}, {100 * hi:+.2f}] | {100 * o['p']:.1f}/{100 * o['r']:.1f} → {100 * n['p']:.1f}/{100 * n['r']:.1f} |")
    return "\n".join([
        f"# Adapted text model `{version}`", "",
        f"- base: `{base}`",
        f"- trained on {n_train} of this clinic's fully reviewed records, with replay of the team training records",
        f"- took {minutes:.1f} minutes (fine-tuning, export with parity check, INT8, both evaluations)",
        f"- verdict: **{reason}**", "",
        "Strict span micro-F1 over the 23 categories, with the app's engine (INT8). "
        "Δ with a paired bootstrap 95% interval (1000 resamples of records).", "",
        "| set | old F1 | new F1 | Δ [95% CI] | P/R old → new |", "|---|---:|---:|---:|---:|",
        *rows, "",
        "Made by `tcm-desktop adapt`; see docs/adaptation.md.", "",
    ]) + ("" if accepted else "This model was not installed.\n")


def _print_event(event: str, **kw) -> None:
    print(json.dumps({"event": event, **kw}, ensure_ascii=False, default=str), flush=True)


def run_cli(args: argparse.Namespace, stderr=sys.stderr) -> int:
    """Exit 0 accepted, 1 refused or not enough reviewed records, 2 anything else (said in one line)."""
    from tcm_desktop.records.database import default_db_path

    db = Path(args.db) if args.db else default_db_path()
    if not db.exists():
        stderr.write(f"error: database not found: {db}\n")
        return 1
    try:
        res = adapt(db, args.out, args.base, minutes=args.minutes, max_steps=args.max_steps, lr=args.lr,
                    replay_ratio=args.replay_ratio,
                    threads=args.threads, seed=args.seed, passphrase=os.environ.get("TCM_DB_PASSPHRASE"))
    except AdaptError as exc:
        stderr.write(f"error: {exc}\n")
        return 1
    except Exception as exc:  # noqa: BLE001 - one sentence, never a traceback (the work folder keeps the logs)
        stderr.write(f"error: adaptation failed: {type(exc).__name__}: {exc}\n")
        return 2
    if not res.accepted:
        stderr.write(f"error: {res.reason} (comparison: {res.card})\n")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m tcm_desktop.training.adapt ...`` is ``tcm-desktop adapt ...`` (one argument list)."""
    from tcm_desktop.cli import main as cli_main

    return cli_main(["adapt", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
