"""Structured pruning of the text encoder's feed-forward channels with torch-pruning.

    python -m tcm_desktop.training.prune_ner --run RUN_DIR --out PRUNED_DIR --keep 0.5

For every encoder layer, the FFN's intermediate channels are ranked by a
group L2 magnitude (the ``intermediate.dense`` row together with the matching
``output.dense`` column, as torch-pruning's dependency graph couples them) and
the lowest are removed; the kept count is rounded to a multiple of 8 (SIMD
friendly). The result is a smaller dense model described by the same config
with a smaller ``ffn``; fine-tune it with ``train_ner --init PRUNED_DIR``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import torch
import torch_pruning as tp

from tcm_desktop.training.export_ner import PARITY_TEXTS, load_run, sample_inputs


def prune_ffn(model, example_inputs, keep: float, multiple: int = 8) -> int:
    """Prune every layer's FFN to ``keep`` of its channels in place; return the new width."""
    em = model.emissions
    graph = tp.DependencyGraph().build_dependency(em, example_inputs=example_inputs)
    width = em.cfg.ffn
    new_width = max(multiple, int(round(width * keep / multiple)) * multiple)
    importance = tp.importance.GroupMagnitudeImportance(p=2)
    for layer in em.bert.encoder.layer:
        lin = layer.intermediate.dense
        group = graph.get_pruning_group(lin, tp.prune_linear_out_channels, idxs=list(range(width)))
        scores = importance(group)
        drop = torch.argsort(scores)[: width - new_width].tolist()
        group = graph.get_pruning_group(lin, tp.prune_linear_out_channels, idxs=drop)
        group.prune()
    em.cfg.ffn = new_width
    model.cfg.ffn = new_width
    return new_width


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--keep", type=float, default=0.5)
    args = ap.parse_args(argv)
    model, vocab, lexicon, conf = load_run(args.run)
    ids, lex, mask = sample_inputs(vocab, lexicon, model.cfg.n_lex, PARITY_TEXTS, model.cfg.max_len)
    before = sum(p.numel() for p in model.parameters())
    width = prune_ffn(model, (torch.from_numpy(ids), torch.from_numpy(lex), torch.from_numpy(mask)), args.keep)
    after = sum(p.numel() for p in model.parameters())
    args.out.mkdir(parents=True, exist_ok=True)
    conf["model"]["ffn"] = width
    conf["pruned_from"] = str(args.run)
    (args.out / "config.json").write_text(json.dumps(conf, ensure_ascii=False, indent=1), encoding="utf-8")
    for name in ("vocab.json", "lexicon.json"):
        if (args.run / name).exists():
            shutil.copy(args.run / name, args.out / name)
    torch.save(model.state_dict(), args.out / "model.pt")
    print(json.dumps({"ffn": width, "params_before": before, "params_after": after}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
