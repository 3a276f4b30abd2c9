"""Train the text model on the unified corpus (CPU, fixed seeds, time budget).

    python -m tcm_desktop.training.train_ner --corpus DIR --out RUN_DIR [--minutes 60]
        [--size student|tiny|teacher] [--no-lexicon] [--no-lstm]
        [--teacher RUN_DIR --kd-weight 0.5 --kd-temperature 2]

Writes ``RUN_DIR/model.pt`` (best dev checkpoint), ``config.json``,
``vocab.json``, ``lexicon.json`` and ``train.log`` (one JSON line per event).
The learning-rate schedule follows the elapsed fraction of the time budget
(or of ``--max-steps``, whichever is nearer), so a run always ends annealed.

With ``--teacher`` the student also learns the teacher's per-character tag
distribution (emission-level knowledge distillation, TinyBERT's prediction-layer
loss). Besides compressing the teacher, this fills in the categories a public
source does not annotate: there the partial-label CRF only says "unknown",
while the teacher gives a soft guess.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from tcm_desktop.schema import LABELS
from tcm_desktop.text.conventions import Span, apply_conventions
from tcm_desktop.text.lexicon import Lexicon
from tcm_desktop.text.tagging import spans_from_tags, tag_names, viterbi
from tcm_desktop.training.augment import mention_pool, replace_mentions
from tcm_desktop.training.cli_args import add_label_masks
from tcm_desktop.training.corpus import load_split
from tcm_desktop.training.lexicon_build import build_lexicon
from tcm_desktop.training.metrics import score
from tcm_desktop.training.ner_data import (
    Example,
    Vocab,
    collate,
    length_buckets,
    mask_labels,
    parse_label_masks,
    record_examples,
    window_bounds,
)
from tcm_desktop.training.ner_model import ModelConfig, NerModel
from tcm_desktop.training.selection import selection_dev_sets, selection_score
from tcm_desktop.training.team_records import stable_bucket

SIZES = {
    "tiny": dict(hidden=64, layers=1, heads=2, ffn=128, lstm=32),
    "student": dict(hidden=312, layers=4, heads=12, ffn=1200, lstm=128),
    "teacher": dict(hidden=512, layers=6, heads=8, ffn=2048, lstm=192),
}
SOURCES = ("team", "jyroy", "cshan", "ccks2019", "xuanlai_d1", "xuanlai_d2")


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_corpus(corpus: Path, sources=SOURCES, masks: dict[str, set[str]] | None = None) -> dict[str, dict[str, list[dict]]]:
    """Every split of each source, with ``masks`` (source -> labels) applied to all of them."""
    out: dict[str, dict[str, list[dict]]] = {}
    for s in sources:
        if (corpus / s / "train.jsonl").exists():
            drop = (masks or {}).get(s, set())
            out[s] = {sp: [mask_labels(r, drop) for r in load_split(corpus, s, sp)] for sp in ("train", "dev", "test")}
    return out


@torch.no_grad()
def predict(model: NerModel, vocab: Vocab, lexicon: Lexicon | None, texts: list[str], max_len: int, batch_tokens: int = 4096) -> list[list[tuple[int, int, str]]]:
    """Spans for each text (window, emit, Viterbi per window) with the torch model."""
    model.eval()
    tags = model.tags
    trans, start, end = (t.detach().numpy() for t in model.crf.constrained())
    n_lex = model.cfg.n_lex
    pieces = []
    for ti, text in enumerate(texts):
        ids = vocab.encode(text)
        lex = lexicon.features(text) if lexicon is not None and n_lex else np.zeros((len(text), n_lex), np.uint8)
        for s, e in window_bounds(text, [], max_len):
            pieces.append((ti, s, ids[s:e], lex[s:e]))
    pieces.sort(key=lambda p: len(p[2]))
    results: list[list[tuple[int, int, str]]] = [[] for _ in texts]
    i = 0
    while i < len(pieces):
        j = i
        while j < len(pieces) and len(pieces[j][2]) * (j - i + 1) <= batch_tokens:
            j += 1
        j = max(j, i + 1)
        batch = pieces[i:j]
        t = max(len(p[2]) for p in batch)
        ids = np.zeros((len(batch), t), np.int64)
        lex = np.zeros((len(batch), t, n_lex), np.float32)
        mask = np.zeros((len(batch), t), bool)
        for b, p in enumerate(batch):
            ids[b, : len(p[2])] = p[2]
            if n_lex:
                lex[b, : len(p[2])] = p[3]
            mask[b, : len(p[2])] = True
        em = model.emissions(torch.from_numpy(ids), torch.from_numpy(lex), torch.from_numpy(mask)).numpy()
        for b, p in enumerate(batch):
            path, _ = viterbi(em[b, : len(p[2])], trans, start, end)
            for s, e, lab in spans_from_tags(path, tags):
                results[p[0]].append((p[1] + s, p[1] + e, lab))
        i = j
    return results


def evaluate_sets(model, vocab, lexicon, sets: dict[str, list[dict]], max_len: int) -> dict[str, dict]:
    out = {}
    for name, recs in sets.items():
        pred = predict(model, vocab, lexicon, [r["text"] for r in recs], max_len)
        if name == "team":  # read as the app reads team records: with the guidelines' span conventions
            pred = [[s[:3] for s in apply_conventions(r["text"], [Span(*p) for p in spans])[0]]
                    for r, spans in zip(recs, pred)]
        gold = [[(e["start"], e["end"], e["label"]) for e in r["entities"]] for r in recs]
        out[name] = score(gold, pred, recs[0]["annotated"] if recs else [])
    return out


def start_run(args: argparse.Namespace, log_name: str) -> tuple[Callable[..., None], float]:
    """Seed, thread count and output folder; returns the JSON-lines logger and the start time."""
    set_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    log = open(args.out / log_name, "a", encoding="utf-8")
    t0 = time.time()

    def emit(event: str, **kw) -> None:
        line = json.dumps({"t": round(time.time() - t0, 1), "event": event, **kw}, ensure_ascii=False)
        log.write(line + "\n")
        log.flush()
        print(line, flush=True)

    return emit, t0


def with_train_mentions(lexicon: Lexicon, records: list[dict]) -> tuple[Lexicon, dict[str, int]]:
    """``lexicon`` plus every mention of 2+ characters annotated in ``records``, under its label (labels the
    lexicon has no category for are left out); also how many new terms each category got."""
    terms = {c: set(lexicon.terms(c)) for c in lexicon.categories}
    added: dict[str, int] = {}
    for r in records:
        for e in r["entities"]:
            mention = r["text"][e["start"]:e["end"]]
            if e["label"] in terms and len(mention) >= 2 and mention not in terms[e["label"]]:
                terms[e["label"]].add(mention)
                added[e["label"]] = added.get(e["label"], 0) + 1
    return Lexicon(terms, lexicon.max_len), added


#: Folds of the train-mention gazetteer (``--lexicon-from-train``).
GAZETTEER_FOLDS = 10


def gazetteer_folds(lexicon: Lexicon, records: list[dict], folds: int = GAZETTEER_FOLDS
                    ) -> tuple[Lexicon, dict[str, Lexicon], dict[str, int]]:
    """The lexicon with every train mention (for dev, test and the app) and, for each train record, the
    lexicon without the mentions of its own fold. A record must not find its own spans in the lexicon, as a
    new record would not: a gazetteer of the very records a model trains on teaches it to copy the lexicon
    (a CCKS-only run with one fell from 0.81 to 0.76 on dev)."""
    fold_of = {r["id"]: stable_bucket(r["id"], folds) for r in records}
    full, added = with_train_mentions(lexicon, records)
    per_fold = [with_train_mentions(lexicon, [r for r in records if fold_of[r["id"]] != k])[0] for k in range(folds)]
    return full, {rid: per_fold[k] for rid, k in fold_of.items()}, added


def oversample_windows(examples: list[Example], tag_ids: set[int], factor: int) -> list[Example]:
    """The windows again, each one holding a span of an oversampled label ``factor`` times. A curriculum for the
    categories the model fits worst (CAUSE fits at 82.6 on its own train split while every other category is above
    92); per window rather than per record, since most team records hold a CAUSE or a site somewhere."""
    if not tag_ids or factor == 1:
        return examples
    return [ex for ex in examples for _ in range(factor if tag_ids.intersection(ex.gold.tolist()) else 1)]


def common_args(ap: argparse.ArgumentParser) -> None:
    """Arguments every training entry point shares (so runs stay comparable)."""
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--size", choices=sorted(SIZES), default="student")
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--batch-tokens", type=int, default=2048)
    ap.add_argument("--no-lexicon", action="store_true")
    ap.add_argument("--sources", nargs="*", default=list(SOURCES))
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--seed", type=int, default=13)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(ap)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--max-epochs", type=int, default=100)
    ap.add_argument("--max-steps", type=int, default=0, help="also stop after this many steps (the schedule follows whichever budget is nearer)")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--team-weight", type=int, default=3, help="repeat team train records this many times")
    ap.add_argument("--oversample", nargs="*", default=[], metavar="LABEL",
                    help="team train windows holding a span of one of these labels get --oversample-factor times the copies")
    ap.add_argument("--oversample-factor", type=int, default=2)
    ap.add_argument("--mention-replace", type=float, default=0.0,
                    help="retold copies: swap each mention for another train string of its label (same source) with this probability;"
                         " team records: every copy after the first, public sources: one extra copy per record")
    ap.add_argument("--augment-sources", nargs="*", default=["team"], help="sources that --mention-replace applies to")
    ap.add_argument("--public-fraction", type=float, default=1.0, help="fraction of public train windows used per epoch")
    ap.add_argument("--dev-per-source", type=int, default=150, help="dev records per public source for model selection")
    ap.add_argument("--eval-minutes", type=float, default=8.0)
    ap.add_argument("--no-lstm", action="store_true")
    ap.add_argument("--teacher", type=Path, help="distil from this run dir (same vocabulary and lexicon)")
    ap.add_argument("--kd-weight", type=float, default=0.5, help="weight of the distillation loss (the CRF loss gets 1 - this)")
    ap.add_argument("--kd-temperature", type=float, default=2.0)
    ap.add_argument("--warmup-steps", type=int, default=-1, help="linear warm-up steps (default: 200, or 0 with --init)")
    add_label_masks(ap, "treat these categories of a public source as not annotated (its conventions contradict the"
                        " schema's), in training and in dev scoring, e.g. ccks2019:BODY_PART cshan:CAUSE")
    ap.add_argument("--init", type=Path, help="start from this run dir (its config, vocabulary, lexicon and weights), e.g. a pruned model to fine-tune")
    ap.add_argument("--lexicon-from-train", nargs="*", default=[], metavar="SOURCE",
                    help="add these sources' train-split mentions (never dev or test) to the lexicon under their labels:"
                         " a gazetteer of the training data, as in SoftLexicon; in training, each record sees only"
                         " the mentions of the other folds")
    args = ap.parse_args(argv)
    if unknown := sorted(set(args.oversample) - set(LABELS)):
        raise SystemExit(f"--oversample: {', '.join(unknown)} is not a category of the schema")
    if args.oversample_factor < 1:
        raise SystemExit("--oversample-factor must be at least 1")

    emit, t0 = start_run(args, "train.log")
    corpus = load_corpus(args.corpus, args.sources, parse_label_masks(args.mask_labels))
    tags = tag_names()
    if args.init:
        init_conf = json.loads((args.init / "config.json").read_text(encoding="utf-8"))
        cfg = ModelConfig(**init_conf["model"])
        vocab = Vocab(json.loads((args.init / "vocab.json").read_text(encoding="utf-8"))[3:])
        lexicon = Lexicon.load(args.init / "lexicon.json") if (args.init / "lexicon.json").exists() else None
        n_lex = cfg.n_lex
    else:
        train_texts = [r["text"] for src in corpus.values() for r in src["train"]]
        vocab = Vocab.build(train_texts, min_count=2)
        lexicon = None if args.no_lexicon else build_lexicon()[0]
        n_lex = lexicon.feature_dim if lexicon is not None else 0
        cfg = ModelConfig(vocab_size=len(vocab), n_tags=len(tags), n_lex=n_lex, max_len=args.max_len,
                          use_lexicon=not args.no_lexicon, use_lstm=not args.no_lstm, **SIZES[args.size])
    record_lexicon: dict[str, Lexicon] = {}
    if args.lexicon_from_train:
        if lexicon is None:
            raise SystemExit("--lexicon-from-train needs the lexicon features (drop --no-lexicon)")
        if missing := sorted(set(args.lexicon_from_train) - set(corpus)):
            raise SystemExit(f"--lexicon-from-train: {', '.join(missing)} not among the --sources trained on")
        lexicon, record_lexicon, added = gazetteer_folds(
            lexicon, [r for src in args.lexicon_from_train for r in corpus[src]["train"]])
        emit("lexicon", added=added, folds=GAZETTEER_FOLDS)
    (args.out / "config.json").write_text(json.dumps({"model": cfg.to_dict(), "tags": tags, "args": {k: str(v) for k, v in vars(args).items()}}, ensure_ascii=False, indent=1))
    (args.out / "vocab.json").write_text(json.dumps(vocab.itos, ensure_ascii=False))
    if lexicon is not None:
        (args.out / "lexicon.json").write_text(json.dumps(lexicon.to_json(), ensure_ascii=False))

    train_ex, public_ex = [], []
    oversampled = {i for i, t in enumerate(tags) if t != "O" and t[2:] in args.oversample}
    rng = random.Random(args.seed)
    for name, src in corpus.items():
        pool = mention_pool(src["train"]) if args.mention_replace and name in args.augment_sources else {}
        copies = args.team_weight if name == "team" else 1
        for r in src["train"]:
            lex_r = record_lexicon.get(r["id"], lexicon)
            exs = record_examples(r, name, vocab, lex_r, tags, args.max_len)
            if pool:  # the original once, then retold copies (at least one)
                for _ in range(max(copies - 1, 1)):
                    exs += record_examples(replace_mentions(r, pool, args.mention_replace, rng), name, vocab, lex_r,
                                           tags, args.max_len)
            else:
                exs *= copies
            if name == "team":
                train_ex.extend(oversample_windows(exs, oversampled, args.oversample_factor))
            else:
                public_ex.extend(exs)
    dev_sets = selection_dev_sets(corpus, args.dev_per_source)
    emit("data", vocab=len(vocab), n_lex=n_lex, team_windows=len(train_ex), public_windows=len(public_ex),
         dev={k: len(v) for k, v in dev_sets.items()}, params=None)

    model = NerModel(cfg, tags)
    if args.init:
        model.load_state_dict(torch.load(args.init / "model.pt", map_location="cpu", weights_only=True))
    emit("model", params=sum(p.numel() for p in model.parameters()), cfg=cfg.to_dict())
    teacher = _load_teacher(args.teacher, vocab, lexicon, tags) if args.teacher else None
    if teacher is not None:
        emit("teacher", run=str(args.teacher), params=sum(p.numel() for p in teacher.parameters()),
             cfg=teacher.cfg.to_dict(), kd_weight=args.kd_weight, kd_temperature=args.kd_temperature)
    warmup = args.warmup_steps if args.warmup_steps >= 0 else (0 if args.init else 200)
    crf_params = list(model.crf.parameters())
    other = [p for n, p in model.named_parameters() if not n.startswith("crf.")]
    opt = torch.optim.AdamW([{"params": other, "lr": args.lr}, {"params": crf_params, "lr": args.lr * 10}], weight_decay=0.01)
    base_lrs = [g["lr"] for g in opt.param_groups]
    budget = args.minutes * 60
    best = -1.0
    step = 0
    last_eval = time.time()
    done = False
    for epoch in range(args.max_epochs):
        pub = rng.sample(public_ex, int(len(public_ex) * args.public_fraction)) if args.public_fraction < 1 else public_ex
        examples = train_ex + pub
        losses = []
        for batch in length_buckets(examples, args.batch_tokens, shuffle=True, seed=args.seed + epoch):
            frac = (time.time() - t0) / budget
            if args.max_steps:
                frac = max(frac, step / args.max_steps)
            if frac >= 1.0:
                done = True
                break
            warm = min(1.0, (step + 1) / warmup) if warmup else 1.0
            for g, lr in zip(opt.param_groups, base_lrs):
                g["lr"] = lr * warm * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))
            model.train()
            ids, lex, allowed, _, mask = collate(batch, len(tags), n_lex)
            t_ids, t_lex, t_allowed, t_mask = (torch.from_numpy(a) for a in (ids, lex, allowed, mask))
            if teacher is None:
                loss = model.loss(t_ids, t_lex, t_allowed, t_mask)
            else:
                em = model.emissions(t_ids, t_lex, t_mask)
                with torch.no_grad():
                    t_em = teacher.emissions(t_ids, t_lex, t_mask)
                crf = model.crf.partial_nll(em, t_allowed, t_mask)
                loss = (1 - args.kd_weight) * crf + args.kd_weight * distillation_loss(em, t_em, t_mask, args.kd_temperature)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            losses.append(loss.item())
            step += 1
            if step % 50 == 0:
                emit("step", epoch=epoch, step=step, loss=float(np.mean(losses[-50:])), lr=opt.param_groups[0]["lr"])
            if time.time() - last_eval > args.eval_minutes * 60:
                best = _eval_and_save(model, vocab, lexicon, dev_sets, args, emit, best, step)
                last_eval = time.time()
        if done:
            break
        emit("epoch", epoch=epoch, loss=float(np.mean(losses)) if losses else None)
    best = _eval_and_save(model, vocab, lexicon, dev_sets, args, emit, best, step)
    emit("done", best=best, minutes=round((time.time() - t0) / 60, 1))
    return 0


def distillation_loss(student_em: torch.Tensor, teacher_em: torch.Tensor, mask: torch.Tensor, temperature: float) -> torch.Tensor:
    """Soft cross-entropy to the teacher's tag distribution, summed over a window's characters.

    Summed per window (then averaged over the batch) like the CRF loss, so the
    two are on the same scale; ``T**2`` keeps the gradient size independent of ``T``.
    """
    log_p = torch.log_softmax(student_em / temperature, dim=-1)
    q = torch.softmax(teacher_em / temperature, dim=-1)
    per_char = -(q * log_p).sum(-1) + (q * torch.log(q.clamp_min(1e-12))).sum(-1)  # KL(q || p)
    return (per_char * mask.to(per_char.dtype)).sum(1).mean() * temperature**2


def _load_teacher(run: Path, vocab: Vocab, lexicon: Lexicon | None, tags: list[str]) -> NerModel:
    """The frozen teacher; it must read the same characters and lexicon features as the student."""
    conf = json.loads((run / "config.json").read_text(encoding="utf-8"))
    t_vocab = json.loads((run / "vocab.json").read_text(encoding="utf-8"))
    if t_vocab != vocab.itos:
        raise SystemExit(f"teacher {run} has another vocabulary; train the student with --init or the same corpus")
    t_lex = json.loads((run / "lexicon.json").read_text(encoding="utf-8")) if (run / "lexicon.json").exists() else None
    if (t_lex is None) != (lexicon is None) or (t_lex is not None and t_lex != json.loads(json.dumps(lexicon.to_json(), ensure_ascii=False))):
        raise SystemExit(f"teacher {run} has another lexicon")
    if conf["tags"] != tags:
        raise SystemExit(f"teacher {run} has another tag set")
    teacher = NerModel(ModelConfig(**conf["model"]), tags)
    teacher.load_state_dict(torch.load(run / "model.pt", map_location="cpu", weights_only=True))
    teacher.eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


def _eval_and_save(model, vocab, lexicon, dev_sets, args, emit, best, step) -> float:
    res = evaluate_sets(model, vocab, lexicon, dev_sets, args.max_len)
    f1 = {k: round(v["micro"]["f1"], 4) for k, v in res.items()}
    sel = selection_score(f1)
    emit("eval", step=step, dev_f1=f1, selection=round(sel, 4))
    if sel > best:
        torch.save(model.state_dict(), args.out / "model.pt")
        emit("saved", step=step, selection=round(sel, 4))
        return sel
    return best


if __name__ == "__main__":
    sys.exit(main())
