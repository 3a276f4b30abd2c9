"""Masked-language-model pre-training of the text model's encoder on the corpus text.

    python -m tcm_desktop.training.pretrain_mlm --corpus DIR --out RUN_DIR [--max-steps 1000]
    python -m tcm_desktop.training.train_ner --corpus DIR --init RUN_DIR --warmup-steps 200 ...

No pretrained Chinese LM can be downloaded here, so the encoder starts from
random weights; this gives it the corpus's character statistics first. Only
the train splits are read (deduplicated across sources), never dev or test.
The run directory has the same layout as a ``train_ner`` run (config, vocabulary,
lexicon, ``model.pt`` of a whole ``NerModel`` whose BiLSTM and CRF are still
untrained), so fine-tuning starts from it with ``train_ner --init``.
Lexicon features are part of the input, as in fine-tuning, so ``lex_proj`` is
pre-trained too; they mark word boundaries, not the masked character itself.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time

import numpy as np
import torch
from torch import nn

from tcm_desktop.text.tagging import tag_names
from tcm_desktop.training.lexicon_build import build_lexicon
from tcm_desktop.training.ner_data import MASK, SPECIALS, Vocab, length_buckets, window_bounds
from tcm_desktop.training.ner_model import ModelConfig, NerModel
from tcm_desktop.training.train_ner import SIZES, common_args, load_corpus, start_run


class MlmHead(nn.Module):
    """BERT's prediction head: transform, then the decoder tied to the character embeddings."""

    def __init__(self, embeddings: nn.Embedding) -> None:
        super().__init__()
        hidden = embeddings.weight.shape[1]
        self.transform = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.LayerNorm(hidden))
        self.embeddings = embeddings
        self.bias = nn.Parameter(torch.zeros(embeddings.weight.shape[0]))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.transform(h) @ self.embeddings.weight.T + self.bias


def mask_tokens(ids: np.ndarray, real: np.ndarray, vocab_size: int, prob: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """BERT's 80/10/10 masking of ``prob`` of the real characters; returns inputs and targets (-100 = not scored)."""
    chosen = (rng.random(ids.shape) < prob) & real
    targets = np.where(chosen, ids, -100)
    roll = rng.random(ids.shape)
    inputs = ids.copy()
    inputs[chosen & (roll < 0.8)] = MASK
    rand = chosen & (roll >= 0.8) & (roll < 0.9)
    inputs[rand] = rng.integers(len(SPECIALS), vocab_size, size=int(rand.sum()))
    return inputs, targets


def windows(texts: list[str], vocab: Vocab, lexicon, max_len: int) -> list[tuple[np.ndarray, np.ndarray]]:
    n_lex = lexicon.feature_dim if lexicon is not None else 0
    out = []
    for text in texts:
        ids = vocab.encode(text)
        lex = lexicon.features(text) if lexicon is not None else np.zeros((len(text), 0), np.uint8)
        for s, e in window_bounds(text, [], max_len):
            if e - s >= 8:
                out.append((ids[s:e], lex[s:e] if n_lex else lex[s:e, :0]))
    return out


def batches(items: list[tuple[np.ndarray, np.ndarray]], max_tokens: int, seed: int) -> list[list[int]]:
    """Indices of length-bucketed batches under a token budget, in shuffled order."""
    return list(length_buckets(range(len(items)), max_tokens, shuffle=True, seed=seed, length=lambda i: len(items[i][0])))


def collate(items, idx: list[int], n_lex: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = max(len(items[i][0]) for i in idx)
    ids = np.zeros((len(idx), t), np.int64)
    lex = np.zeros((len(idx), t, n_lex), np.float32)
    real = np.zeros((len(idx), t), bool)
    for b, i in enumerate(idx):
        n = len(items[i][0])
        ids[b, :n] = items[i][0]
        if n_lex:
            lex[b, :n] = items[i][1]
        real[b, :n] = True
    return ids, lex, real


@torch.no_grad()
def masked_accuracy(model: NerModel, head: MlmHead, items, n_lex: int, vocab_size: int, prob: float, seed: int) -> dict:
    """Loss and accuracy on held-out windows, with a fixed masking."""
    model.eval()
    head.eval()
    rng = np.random.default_rng(seed)
    loss_sum, right, n = 0.0, 0, 0
    for idx in batches(items, 4096, seed):
        ids, lex, real = collate(items, idx, n_lex)
        inputs, targets = mask_tokens(ids, real, vocab_size, prob, rng)
        logits = head(model.emissions.encode(torch.from_numpy(inputs), torch.from_numpy(lex), torch.from_numpy(real)))
        tgt = torch.from_numpy(targets)
        sel = tgt != -100
        if sel.any():
            loss_sum += float(nn.functional.cross_entropy(logits[sel], tgt[sel], reduction="sum"))
            right += int((logits[sel].argmax(-1) == tgt[sel]).sum())
            n += int(sel.sum())
    return {"loss": round(loss_sum / max(n, 1), 4), "accuracy": round(right / max(n, 1), 4), "masked": n}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(ap)
    ap.add_argument("--max-steps", type=int, default=1000)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--mask-prob", type=float, default=0.15)
    args = ap.parse_args(argv)

    emit, t0 = start_run(args, "pretrain.log")

    corpus = load_corpus(args.corpus, args.sources)
    tags = tag_names()
    # The same vocabulary as train_ner builds from the same corpus (all train texts, min count 2).
    train_texts = [r["text"] for src in corpus.values() for r in src["train"]]
    vocab = Vocab.build(train_texts, min_count=2)
    lexicon = None if args.no_lexicon else build_lexicon()[0]
    n_lex = lexicon.feature_dim if lexicon is not None else 0
    cfg = ModelConfig(vocab_size=len(vocab), n_tags=len(tags), n_lex=n_lex, max_len=args.max_len,
                      use_lexicon=not args.no_lexicon, use_lstm=True, **SIZES[args.size])
    unique_train = sorted(set(train_texts))
    dev_texts = sorted({r["text"] for src in corpus.values() for r in src["dev"]} - set(unique_train))
    items = windows(unique_train, vocab, lexicon, args.max_len)
    held_out = windows(random.Random(args.seed).sample(dev_texts, min(300, len(dev_texts))), vocab, lexicon, args.max_len)
    emit("data", texts=len(unique_train), windows=len(items), characters=int(sum(len(i[0]) for i in items)), held_out_windows=len(held_out))

    model = NerModel(cfg, tags)
    head = MlmHead(model.emissions.bert.embeddings.word_embeddings)
    params = [p for n, p in model.named_parameters() if n.startswith("emissions.bert.") or n.startswith("emissions.lex_proj.")]
    params += [p for n, p in head.named_parameters() if not n.startswith("embeddings.")]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    rng = np.random.default_rng(args.seed)
    emit("start", params=sum(p.numel() for p in params), cfg=cfg.to_dict(), before=masked_accuracy(model, head, held_out, n_lex, len(vocab), args.mask_prob, args.seed))
    step, epoch, losses = 0, 0, []
    while step < args.max_steps:
        for idx in batches(items, args.batch_tokens, args.seed + epoch):
            if step >= args.max_steps:
                break
            frac = step / args.max_steps
            for g in opt.param_groups:
                g["lr"] = args.lr * min(1.0, (step + 1) / 100) * 0.5 * (1 + math.cos(math.pi * frac))
            model.train()
            head.train()
            ids, lex, real = collate(items, idx, n_lex)
            inputs, targets = mask_tokens(ids, real, len(vocab), args.mask_prob, rng)
            logits = head(model.emissions.encode(torch.from_numpy(inputs), torch.from_numpy(lex), torch.from_numpy(real)))
            loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), torch.from_numpy(targets).reshape(-1), ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            losses.append(loss.item())
            step += 1
            if step % 50 == 0:
                emit("step", epoch=epoch, step=step, loss=float(np.mean(losses[-50:])), lr=opt.param_groups[0]["lr"])
        epoch += 1
    after = masked_accuracy(model, head, held_out, n_lex, len(vocab), args.mask_prob, args.seed)
    (args.out / "config.json").write_text(json.dumps({"model": cfg.to_dict(), "tags": tags, "args": {k: str(v) for k, v in vars(args).items()}}, ensure_ascii=False, indent=1))
    (args.out / "vocab.json").write_text(json.dumps(vocab.itos, ensure_ascii=False))
    if lexicon is not None:
        (args.out / "lexicon.json").write_text(json.dumps(lexicon.to_json(), ensure_ascii=False))
    torch.save(model.state_dict(), args.out / "model.pt")
    emit("done", steps=step, held_out=after, minutes=round((time.time() - t0) / 60, 1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
