"""Memory-constrained channel pruning of the TongueNet encoder, and the baselines it is compared with.

    # RL search for a keep ratio per layer under a memory budget (fraction of the unpruned model's memory)
    python -m tcm_desktop.training.tongue.rl_prune search --run runs/tongue/main --budget 0.6 --minutes 8 --out runs/tongue/rl_b60.json
    # apply a method at a budget, fine-tune, evaluate, export and measure
    python -m tcm_desktop.training.tongue.rl_prune prune --run runs/tongue/main --method rl --ratios runs/tongue/rl_b60.json \
        --budget 0.6 --finetune-minutes 4 --out runs/tongue/prune_rl_b60
    python -m tcm_desktop.training.tongue.rl_prune prune --run runs/tongue/main --method uniform_l1 --budget 0.6 ...
    python -m tcm_desktop.training.tongue.rl_prune prune --run runs/tongue/main --method taylor --budget 0.6 ...
    # Gumbel-sigmoid channel gates (gates.py), a fixed number of fine-tuning steps instead of minutes
    python -m tcm_desktop.training.tongue.rl_prune prune --run runs/tongue/main --method gumbel --budget 0.6 \
        --gate-steps 300 --finetune-steps 180 --out runs/tongue/prune_gumbel_b60   # [--ratios runs/tongue/rl_b60.json]
    python -m tcm_desktop.training.tongue.rl_prune table --dirs runs/tongue/prune_* --out runs/tongue/pruning_table.md

Prunable layers: the 15 MBConv expansion layers (hidden channels expand -> depthwise
-> project; residual connections untouched). Kept channels are multiples of 8
(at least 8). Channels are removed with torch-pruning's DependencyGraph.

Memory model (computed, fp32, batch 1, at the deployment size): weights
(4 bytes x parameters) + peak activations, estimated as the largest
(input + output) of any convolution (BatchNorm/ReLU6 fuse into it at run time)
plus all U-Net skip tensors held for the decoder (a conservative bound). It is
checked against onnxruntime by measuring the peak RSS of a fresh process that
loads the exported model and runs one inference.

RL search (the paper's decision network, kept small for a 2-core CPU):
an LSTM reads per-layer statistics of the encoder's hidden feature maps
(activation mean/std, share of near-dead channels, filter L1 norm, channel
count, resolution, depth, share of weight and activation memory) and emits a
keep ratio per layer from {0.25, 0.375, ..., 1.0}; REINFORCE with a moving-
average baseline maximises reward = proxy quality - 2 x relative excess over
the memory budget. Proxy quality (no fine-tuning inside the loop): channels are
masked (BN scale and shift set to 0: identical to removing them), BatchNorm
statistics are re-estimated on 48 training images, then 0.5 x mean Dice over
the three sources + 0.5 x agreement of the attribute decisions with the
unpruned model, on 150 validation images at 128 px. Within a layer channels
are ranked by L1 norm. Candidates over budget by more than 10% are not
evaluated (quality 0).

Gradient reparameterisation (``--method gumbel``, module ``gates.py``; the
paper's differentiable counterpart of the RL decision): dynamic channel
grouping (each layer's hidden channels ranked by L1 norm, consecutive runs of 8
= one group, so every decision is 8-aligned), one learnable logit per group,
hard Gumbel-sigmoid gates (temperature annealed 1.0 -> 0.2) with a straight-
through gradient, multiplying the hidden channels at the project conv's input
(where a closed gate equals a removed channel). Loss = the fine-tuning task loss
(mask BCE + Dice, 0.5 x attribute CE) + 0.5 x agreement with the unpruned model
+ 2 x relu(E[memory] / budget - 1) + 0.1 x relu(1 - E[memory] / budget), where
E[memory] is ``memory_terms`` evaluated differentiably at the expected kept
channels (equal to ``memory`` at hard gates). Only the logits are trained
(Adam, ``--gate-steps``), the weights stay frozen, so every method gets the
same weight training. Gates start all open, or at the RL's per-layer ratio
(``--ratios``). Decision: keep the groups with a positive logit, close the
lowest-logit groups while over budget, reopen the highest-logit closed groups
that still fit; the removal sets are the closed groups' channels. The gate log
is in ``result.json["gates"]`` and, per step with the final logits, ``gates.json``.

Baselines at the same budget: uniform L1 magnitude (the same keep ratio in every
layer, the largest that fits) and global first-order Taylor (|activation x
gradient| per channel, normalised per layer, removed lowest-first in groups of
8 until the budget fits). Every method is then fine-tuned for the same wall-
clock time (``--finetune-minutes``; the first rows got 4 minutes = 135-218 steps
under CPU contention) or the same number of steps (``--finetune-steps``);
``result.json`` records the steps actually taken (``finetune_steps``), and the
table shows them.
"""

from __future__ import annotations

import argparse
import copy
import glob
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from tcm_desktop.training.tongue.data import SOURCES, Cache, load_cache
from tcm_desktop.training.tongue.models import SKIPS, TongueNet, prunable_layers

ACTIONS = (0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0)
ALIGN = 8


# --------------------------------------------------------------------------- memory model
def _probe(model: TongueNet, size: int, hooks: list) -> None:
    """Run one blank image through ``model`` in eval mode so ``hooks`` record it; then remove them."""
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, size, size))
    finally:
        model.train(was)
        for h in hooks:
            h.remove()


def profile(model: TongueNet, size: int) -> dict:
    """Per-conv activation sizes and per-module parameter counts, tagged by prunable block."""
    convs, params = [], []
    blocks = {i for i, _ in prunable_layers(model)}
    hooks = []

    def tag(name: str) -> tuple[int | None, str]:
        parts = name.split(".")
        if parts[0] == "blocks" and int(parts[1]) in blocks:
            return int(parts[1]), parts[2]
        return None, ""

    for name, mod in model.named_modules():
        if isinstance(mod, (nn.Conv2d, nn.BatchNorm2d, nn.Linear)):
            blk, role = tag(name)
            n = sum(p.numel() for p in mod.parameters(recurse=False))
            scaled = blk is not None and role != "_bn2"
            params.append((blk if scaled else None, n))
        if isinstance(mod, nn.Conv2d):
            blk, role = tag(name)

            def hook(m, inp, out, blk=blk, role=role, name=name):
                s_in = blk if role in ("_depthwise_conv", "_project_conv") else None
                s_out = blk if role in ("_expand_conv", "_depthwise_conv") else None
                convs.append((name, inp[0].numel(), s_in, out.numel(), s_out))

            hooks.append(mod.register_forward_hook(hook))
    skip_numel = []
    want = {b: k for k, (b, _, _) in enumerate(SKIPS)}

    def block_hook(m, inp, out, i=None):
        skip_numel.append(out.numel())

    for i, blk in enumerate(model.blocks):
        if i in want and i != SKIPS[-1][0]:
            hooks.append(blk.register_forward_hook(block_hook))
    _probe(model, size, hooks)
    chans = {i: c.out_channels for i, c in prunable_layers(model)}
    return {"convs": convs, "params": params, "skips": int(sum(skip_numel)), "channels": chans, "size": size}


def memory_terms(prof: dict, keep: dict | None = None) -> tuple:
    """(parameters, activation elements) of the memory model. ``keep[i]`` may be a float or a
    float64 torch scalar (gates.py: the same arithmetic, in the same order, so differentiable
    and bit-identical to ``memory`` at the same keep fractions)."""
    keep = keep or {}
    k = lambda b: 1.0 if b is None else keep.get(b, 1.0)  # noqa: E731
    n_params = sum(n * k(b) for b, n in prof["params"])
    peak_conv = max(i * k(si) + o * k(so) for _, i, si, o, so in prof["convs"])
    return n_params, peak_conv + prof["skips"]


def memory(prof: dict, keep: dict[int, float] | None = None) -> dict:
    """Computed memory (bytes) when block i keeps the fraction keep[i] of its hidden channels."""
    n_params, act = memory_terms(prof, keep)
    return {"weights_bytes": int(4 * n_params), "activation_bytes": int(4 * act), "total_bytes": int(4 * (n_params + act)), "params": int(n_params)}


def aligned(c: int, ratio: float) -> int:
    return int(min(c, max(ALIGN, ALIGN * round(c * ratio / ALIGN))))


def keep_fractions(prof: dict, counts: dict[int, int]) -> dict[int, float]:
    return {i: counts[i] / prof["channels"][i] for i in counts}


def counts_for(prof: dict, ratios: dict[int, float]) -> dict[int, int]:
    return {i: aligned(c, ratios.get(i, 1.0)) for i, c in prof["channels"].items()}


# --------------------------------------------------------------------------- importance
def l1_importance(model: TongueNet) -> dict[int, np.ndarray]:
    return {i: conv.weight.detach().abs().sum((1, 2, 3)).numpy() for i, conv in prunable_layers(model)}


def taylor_importance(model: TongueNet, c: Cache, n_batches: int = 12, batch: int = 8, seed: int = 0) -> dict[int, np.ndarray]:
    """|sum over positions of activation x gradient| at the project conv's input, averaged."""
    from tcm_desktop.training.tongue.train_seg import Sampler, attr_loss, batch_tensors, seg_loss

    acts: dict[int, torch.Tensor] = {}
    scores = {i: torch.zeros(conv.out_channels) for i, conv in prunable_layers(model)}
    hooks = []
    for i, _ in prunable_layers(model):
        def pre(m, inp, i=i):
            x = inp[0]
            x.retain_grad()
            acts[i] = x
        hooks.append(model.blocks[i]._project_conv.register_forward_pre_hook(pre))
    rng = np.random.default_rng(seed)
    sampler = Sampler(c, list(SOURCES), "train", rng)
    model.eval()  # BN in inference mode: score the trained network as it is
    for _ in range(n_batches):
        x, m, y, w = batch_tensors(c, sampler(batch))
        model.zero_grad()
        lg, at = model(x)
        (seg_loss(lg, m) + 0.5 * attr_loss(at, y, w)).backward()
        for i, a in acts.items():
            scores[i] += (a * a.grad).sum((2, 3)).abs().mean(0).detach()
    for h in hooks:
        h.remove()
    model.zero_grad()
    return {i: s.numpy() / n_batches for i, s in scores.items()}


def removal_sets(importance: dict[int, np.ndarray], counts: dict[int, int]) -> dict[int, list[int]]:
    return {i: sorted(np.argsort(importance[i])[: len(importance[i]) - counts[i]].tolist()) for i in counts}


# --------------------------------------------------------------------------- pruning
def apply_pruning(model: TongueNet, remove: dict[int, list[int]], size: int) -> TongueNet:
    import torch_pruning as tp

    model.eval()
    dg = tp.DependencyGraph().build_dependency(model, example_inputs=torch.rand(1, 3, size, size) * 255)
    for i, conv in prunable_layers(model):
        idxs = remove.get(i, [])
        if not idxs:
            continue
        g = dg.get_pruning_group(conv, tp.prune_conv_out_channels, idxs=idxs)
        if not dg.check_pruning_group(g):
            raise RuntimeError(f"invalid pruning group for block {i}")
        g.prune()
    return model


def uniform_counts(prof: dict, budget_bytes: float) -> tuple[dict[int, int], float]:
    best = None
    for r in np.arange(1.0, 0.049, -0.0125):
        cnt = counts_for(prof, {i: float(r) for i in prof["channels"]})
        if memory(prof, keep_fractions(prof, cnt))["total_bytes"] <= budget_bytes:
            best = (cnt, float(r))
            break
    if best is None:
        raise ValueError("budget too small even at the minimum keep ratio")
    return best


def taylor_counts(prof: dict, scores: dict[int, np.ndarray], budget_bytes: float) -> dict[int, int]:
    norm = {i: np.sort(s / (s.mean() + 1e-12)) for i, s in scores.items()}  # ascending
    cnt = dict(prof["channels"])
    removed = {i: 0 for i in cnt}
    while memory(prof, keep_fractions(prof, cnt))["total_bytes"] > budget_bytes:
        best, best_cost = None, None
        for i in cnt:
            if cnt[i] - ALIGN < ALIGN:
                continue
            cost = float(norm[i][removed[i] : removed[i] + ALIGN].sum())
            if best_cost is None or cost < best_cost:
                best, best_cost = i, cost
        if best is None:
            raise ValueError("budget too small for Taylor pruning")
        cnt[best] -= ALIGN
        removed[best] += ALIGN
    return cnt


# --------------------------------------------------------------------------- proxy evaluation
class Proxy:
    """Quality of masked candidates without fine-tuning (see module doc)."""

    def __init__(self, model: TongueNet, c: Cache, n_val: int = 150, n_cal: int = 48, res: int = 128, seed: int = 0):
        self.model = model.eval()
        self.state = copy.deepcopy(model.state_dict())
        rng = np.random.default_rng(seed)
        vi = np.concatenate([rng.permutation(c.index(s, "val"))[: n_val // 3] for s in SOURCES])
        ci = np.concatenate([rng.permutation(c.index(s, "train"))[: n_cal // 3] for s in SOURCES])
        def prep(idx):
            x = torch.from_numpy(c.images[idx]).permute(0, 3, 1, 2).float()
            return F.interpolate(x, size=(res, res), mode="bilinear", align_corners=False)
        self.xv, self.xc = prep(vi), prep(ci)
        self.mv = F.interpolate(torch.from_numpy(c.masks[vi]).unsqueeze(1).float(), size=(res, res), mode="nearest")[:, 0] > 0.5
        self.src = np.array([c.sources[i] for i in vi])
        self.is_te = torch.from_numpy(self.src == "tonguexpert")
        self.l1 = l1_importance(model)
        with torch.no_grad():
            _, at = model(self.xv)
        self.ref_attr = at.argmax(-1)

    def quality(self, counts: dict[int, int]) -> float:
        m = self.model
        m.load_state_dict(self.state)
        with torch.no_grad():
            for i, conv in prunable_layers(m):
                drop = np.argsort(self.l1[i])[: conv.out_channels - counts[i]]
                if len(drop):
                    b = m.blocks[i]
                    idx = torch.from_numpy(np.asarray(drop))
                    for bn in (b._bn0, b._bn1):
                        bn.weight[idx] = 0
                        bn.bias[idx] = 0
            bns = [mod for mod in m.modules() if isinstance(mod, nn.BatchNorm2d)]
            for bn in bns:
                bn.reset_running_stats()
                bn.momentum = None
            m.train()
            for j in range(0, len(self.xc), 16):
                m(self.xc[j : j + 16])
            m.eval()
            lg, at = m(self.xv)
        pred = lg[:, 0] > 0
        inter = (pred & self.mv).sum((1, 2)).float()
        dice = (2 * inter + 1) / (pred.sum((1, 2)) + self.mv.sum((1, 2)) + 1).float()
        per_src = [float(dice[torch.from_numpy(self.src == s)].mean()) for s in SOURCES]
        agree = float((at.argmax(-1) == self.ref_attr)[self.is_te].float().mean())
        for bn in bns:
            bn.momentum = 0.01
        m.load_state_dict(self.state)
        return 0.5 * float(np.mean(per_src)) + 0.5 * agree


# --------------------------------------------------------------------------- RL decision network
def layer_states(model: TongueNet, prof: dict, c: Cache, n: int = 48, res: int = 128) -> torch.Tensor:
    acts: dict[int, torch.Tensor] = {}
    hooks = []
    for i, _ in prunable_layers(model):
        hooks.append(model.blocks[i]._project_conv.register_forward_pre_hook(lambda m, inp, i=i: acts.__setitem__(i, inp[0].detach())))
    idx = np.random.default_rng(1).permutation(c.index(None, "val"))[:n]
    x = F.interpolate(torch.from_numpy(c.images[idx]).permute(0, 3, 1, 2).float(), size=(res, res), mode="bilinear", align_corners=False)
    model.eval()
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    base = memory(prof)
    l1 = l1_importance(model)
    feats = []
    layers = prunable_layers(model)
    for pos, (i, conv) in enumerate(layers):
        a = acts[i]
        ch_mean = a.abs().mean((0, 2, 3))
        w_share = sum(n for b, n in prof["params"] if b == i) / base["params"]
        a_share = max((ii * (si == i) + oo * (so == i)) for _, ii, si, oo, so in prof["convs"]) * 4 / base["activation_bytes"]
        feats.append([
            float(a.mean()), float(a.std()), float((ch_mean < 1e-2).float().mean()),
            float(l1[i].mean() / (np.mean([v.mean() for v in l1.values()]) + 1e-9)),
            np.log2(conv.out_channels) / 11, np.log2(a.shape[-1] + 1) / 8, pos / (len(layers) - 1), w_share * 5, a_share * 2,
        ])
    return torch.tensor(feats, dtype=torch.float32)


class DecisionLSTM(nn.Module):
    def __init__(self, n_feat: int, hidden: int = 48, n_act: int = len(ACTIONS)):
        super().__init__()
        self.cell = nn.LSTMCell(n_feat + n_act, hidden)
        self.out = nn.Linear(hidden, n_act)
        self.n_act = n_act
        nn.init.zeros_(self.out.weight)
        with torch.no_grad():  # start near "keep most" so early samples are mostly feasible-ish
            self.out.bias.copy_(torch.linspace(-0.5, 0.5, n_act))

    def forward(self, states: torch.Tensor, actions: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sample (or score given) one action per layer; returns actions, summed log-prob, entropy."""
        h = torch.zeros(1, self.cell.hidden_size)
        cst = torch.zeros(1, self.cell.hidden_size)
        prev = torch.zeros(1, self.n_act)
        acts, logp, ent = [], [], []
        for t in range(states.shape[0]):
            h, cst = self.cell(torch.cat([states[t : t + 1], prev], 1), (h, cst))
            dist = torch.distributions.Categorical(logits=self.out(h))
            a = dist.sample() if actions is None else actions[t : t + 1]
            acts.append(a)
            logp.append(dist.log_prob(a))
            ent.append(dist.entropy())
            prev = F.one_hot(a, self.n_act).float()
        return torch.cat(acts), torch.stack(logp).sum(), torch.stack(ent).mean()


def rl_search(model: TongueNet, c: Cache, budget_frac: float, minutes: float, size: int, log=print, samples: int = 4, lam: float = 2.0, seed: int = 0,
              max_episodes: int | None = None) -> dict:
    torch.manual_seed(seed)
    prof = profile(model, size)
    base = memory(prof)["total_bytes"]
    budget = budget_frac * base
    proxy = Proxy(model, c)
    states = layer_states(model, prof, c)
    layers = [i for i, _ in prunable_layers(model)]
    policy = DecisionLSTM(states.shape[1])
    opt = torch.optim.Adam(policy.parameters(), lr=1e-2)
    baseline, t0, ep, best, history = None, time.time(), 0, None, []
    full_q = proxy.quality(prof["channels"])
    log(f"budget {budget / 2**20:.2f} MiB ({budget_frac:.2f} x {base / 2**20:.2f}); unpruned proxy quality {full_q:.4f}")
    while time.time() - t0 < minutes * 60 and (max_episodes is None or ep < max_episodes):
        batch = []
        for _ in range(samples):
            acts, logp, ent = policy(states)
            ratios = {i: ACTIONS[int(a)] for i, a in zip(layers, acts)}
            cnt = counts_for(prof, ratios)
            mem = memory(prof, keep_fractions(prof, cnt))["total_bytes"]
            over = max(0.0, mem / budget - 1)
            q = proxy.quality(cnt) if over <= 0.10 else 0.0
            r = q - lam * over
            batch.append((r, logp, ent))
            history.append({"episode": ep, "reward": round(r, 4), "quality": round(q, 4), "mem_frac": round(mem / base, 4)})
            if mem <= budget and (best is None or q > best["quality"]):
                best = {"quality": q, "counts": cnt, "ratios": ratios, "mem_bytes": mem}
        rs = torch.tensor([b[0] for b in batch])
        baseline = float(rs.mean()) if baseline is None else 0.8 * baseline + 0.2 * float(rs.mean())
        loss = -sum((r - baseline) * lp for r, lp, _ in batch) / samples - 0.01 * sum(e for _, _, e in batch) / samples
        opt.zero_grad()
        loss.backward()
        opt.step()
        ep += 1
        log(f"ep {ep} t={(time.time() - t0) / 60:.1f}m mean R={float(rs.mean()):.4f} baseline={baseline:.4f} best q={best['quality'] if best else float('nan'):.4f}")
    if best is None:
        raise RuntimeError("no feasible candidate found: raise --minutes or the budget")
    ucnt, _ = uniform_counts(prof, budget)
    uniform_q = proxy.quality(ucnt)
    log(f"best RL proxy quality {best['quality']:.4f} vs uniform L1 at the same budget {uniform_q:.4f}")
    return {"budget_frac": budget_frac, "uniform_l1_proxy_quality": uniform_q, "budget_bytes": int(budget), "base_bytes": int(base), "unpruned_proxy_quality": full_q,
            "best_proxy_quality": best["quality"], "counts": {str(k): v for k, v in best["counts"].items()},
            "episodes": ep, "candidates": len(history), "history": history, "minutes": minutes}


# --------------------------------------------------------------------------- measurement
MEASURE = r"""
import json, sys, time, numpy as np, onnxruntime as ort
path, size = sys.argv[1], int(sys.argv[2])
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM (peak RSS) to the current RSS
x = (np.random.default_rng(0).random((1, 3, size, size)) * 255).astype(np.float32)
so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.inter_op_num_threads = 1; so.log_severity_level = 3
so.enable_cpu_mem_arena = False  # plain allocations, so RSS follows the live tensors
reset_peak(); r0 = status("VmRSS")
s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
r1 = status("VmRSS"); reset_peak(); r1b = status("VmRSS")
s.run(None, {"image": x}); h2 = status("VmHWM")
for _ in range(5): s.run(None, {"image": x})
ts = []
for _ in range(30):
    t = time.perf_counter(); s.run(None, {"image": x}); ts.append(time.perf_counter() - t)
print(json.dumps({"rss_after_load_bytes": r1 - r0, "rss_first_run_peak_bytes": h2 - r1b, "rss_peak_increase_bytes": (r1 - r0) + (h2 - r1b), "latency_ms_median_1thread": 1000 * float(np.median(ts))}))
"""


def measure_onnx(path: Path, size: int) -> dict:
    out = subprocess.run([sys.executable, "-c", MEASURE, str(path), str(size)], capture_output=True, text=True, timeout=300)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def macs(model: TongueNet, size: int) -> int:
    """Multiply-accumulates of convolutions and linear layers for one image (forward hooks)."""
    total = [0]
    hooks = []
    for mod in model.modules():
        if isinstance(mod, nn.Conv2d):
            hooks.append(mod.register_forward_hook(lambda m, i, o: total.__setitem__(
                0, total[0] + o.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1])))
        elif isinstance(mod, nn.Linear):
            hooks.append(mod.register_forward_hook(lambda m, i, o: total.__setitem__(0, total[0] + m.in_features * m.out_features)))
    _probe(model, size, hooks)
    return int(total[0])


# --------------------------------------------------------------------------- commands
def cmd_search(args) -> int:
    from tcm_desktop.training.tongue.train_seg import load_run

    torch.set_num_threads(1)
    model, conf = load_run(args.run)
    c = load_cache(conf["size"])
    res = rl_search(model, c, args.budget, args.minutes, conf["size"], log=lambda s: print(s, flush=True), seed=args.seed)
    res["command"] = "python -m tcm_desktop.training.tongue.rl_prune " + " ".join(sys.argv[1:])
    args.out.write_text(json.dumps(res, indent=1), encoding="utf-8")
    return 0


def _ratios_counts(path: Path) -> dict[int, int]:
    """Per-layer kept channels of an RL search result (``search --out``)."""
    return {int(k): v for k, v in json.loads(path.read_text(encoding="utf-8"))["counts"].items()}


def cmd_prune(args) -> int:
    from tcm_desktop.training.tongue.evaluate import evaluate, torch_predictor
    from tcm_desktop.training.tongue.export import check_parity, export_onnx, pick
    from tcm_desktop.training.tongue.train_seg import load_run, save_run, train_loop

    torch.set_num_threads(1)
    model, conf = load_run(args.run)
    size = conf["size"]
    c = load_cache(size)
    prof = profile(model, size)
    base = memory(prof)["total_bytes"]
    budget = args.budget * base
    info: dict = {"method": args.method, "budget_frac": args.budget, "budget_bytes": int(budget)}
    imp, gate_res = None, None
    if args.method == "none":
        counts = dict(prof["channels"])
    elif args.method == "uniform_l1":
        counts, r = uniform_counts(prof, budget)
        info["uniform_ratio"] = r
    elif args.method == "taylor":
        imp = taylor_importance(model, c)
        counts = taylor_counts(prof, imp, budget)
    elif args.method == "rl":
        if args.ratios is None:
            raise SystemExit("--method rl needs --ratios")
        counts = _ratios_counts(args.ratios)
    elif args.method == "gumbel":
        from tcm_desktop.training.tongue.gates import gumbel_search

        prior = _ratios_counts(args.ratios) if args.ratios else None
        gate_res = gumbel_search(model, c, args.budget, size, args.gate_steps, prior_counts=prior, batch=args.gate_batch, lr=args.gate_lr,
                                 lam=args.gate_lambda, mu=args.gate_mu, distill=args.gate_distill, fill=not args.no_fill,
                                 seed=args.seed, log=lambda s: print(s, flush=True))
        counts, imp = gate_res["counts"], gate_res["importance"]
        info["gates"] = gate_res["summary"]
    else:
        raise SystemExit(f"unknown method {args.method}")
    if imp is None:
        imp = l1_importance(model)
    comp = memory(prof, keep_fractions(prof, counts))
    if args.method == "gumbel":
        assert comp["total_bytes"] <= budget, (comp, budget)
    if args.method != "none":
        model = apply_pruning(model, removal_sets(imp, counts), size)
    check = memory(profile(model, size))
    assert abs(check["total_bytes"] - comp["total_bytes"]) <= 64, (check, comp)
    info.update({"counts": {str(k): v for k, v in counts.items()}, "computed_memory": comp})
    if args.finetune_minutes or args.finetune_steps:
        minutes = args.finetune_minutes if args.finetune_minutes else float("inf")
        info["finetune"] = train_loop(model, c, sources=list(SOURCES), minutes=minutes, batch=16, lr=args.lr,
                                      use_attr=True, seed=args.seed + 1, log=lambda s: print(s, flush=True), max_steps=args.finetune_steps)
    else:
        info["finetune"] = {"steps": 0, "seconds": 0.0}
    info["finetune"]["limit"] = {"minutes": args.finetune_minutes, "steps": args.finetune_steps}
    info["finetune_steps"] = info["finetune"]["steps"]
    model.eval()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.save(model, args.out / "pruned.pt")
    save_run(model, args.out, {**conf, "pruned_from": str(args.run), **{k: v for k, v in info.items() if k != "computed_memory"}})
    info["params"] = int(sum(p.numel() for p in model.parameters()))
    info["macs"] = macs(model, size)
    info["eval_test"] = evaluate(torch_predictor(model), c, "test", n_boot=200)
    onnx_path = args.out / "model.fp32.onnx"
    export_onnx(model, onnx_path, size)
    info["onnx_parity_max_abs_diff"] = check_parity(model, onnx_path, pick(c, "val", 6, 1))
    info["measured"] = measure_onnx(onnx_path, size)
    info["command"] = "python -m tcm_desktop.training.tongue.rl_prune " + " ".join(sys.argv[1:])
    if gate_res is not None:
        (args.out / "gates.json").write_text(json.dumps({k: gate_res[k] for k in ("summary", "history", "logits")}, indent=1), encoding="utf-8")
    (args.out / "result.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in info.items() if k not in ("eval_test",)}, indent=1))
    return 0


def cmd_table(args) -> int:
    rows = []
    for d in sorted(set(sum((glob.glob(str(p)) for p in args.dirs), []))):
        f = Path(d) / "result.json"
        if not f.exists():
            continue
        r = json.loads(f.read_text(encoding="utf-8"))
        seg = r["eval_test"]["segmentation"]
        att = r["eval_test"].get("attributes", {})
        rows.append((r["budget_frac"], r["method"], r["params"], r["macs"], r["computed_memory"]["total_bytes"],
                     r["measured"]["rss_peak_increase_bytes"], r["measured"]["latency_ms_median_1thread"],
                     seg.get("mean_dice_over_sources", float("nan")), att.get("mean_macro_f1", float("nan")), Path(d).name,
                     r.get("finetune", {}).get("steps", 0)))
    lines = ["| budget (x unpruned) | method | params | MACs | computed memory (MiB) | measured ORT peak RSS increase (MiB) | latency (ms, 1 thread) | test Dice (mean of 3 sources) | test attribute macro-F1 (mean of 4) | fine-tune steps | run |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(rows, key=lambda t: (-t[0], t[1], t[9])):
        lines.append(f"| {r[0]:.2f} | {r[1]} | {r[2] / 1e6:.2f} M | {r[3] / 1e6:.0f} M | {r[4] / 2**20:.2f} | {r[5] / 2**20:.1f} | {r[6]:.1f} | {r[7]:.4f} | {r[8]:.4f} | {r[10]} | {r[9]} |")
    txt = "\n".join(lines) + "\n"
    print(txt)
    if args.out:
        args.out.write_text(txt, encoding="utf-8")
    return 0


def cmd_remeasure(args) -> int:
    """Re-measure every run's ONNX model one after another (for when training shared the CPU)."""
    for d in sorted(set(sum((glob.glob(str(p)) for p in args.dirs), []))):
        f = Path(d) / "result.json"
        if not f.exists():
            continue
        r = json.loads(f.read_text(encoding="utf-8"))
        r["measured_during_training"] = r.get("measured_during_training", r["measured"])
        runs = [measure_onnx(Path(d) / "model.fp32.onnx", args.size) for _ in range(args.repeats)]
        # fresh-process RSS moves by several MiB from run to run: keep the median of each figure
        r["measured"] = {k: float(np.median([m[k] for m in runs])) for k in runs[0]}
        r["measured"]["repeats"] = args.repeats
        r["measured"]["command"] = "python -m tcm_desktop.training.tongue.rl_prune " + " ".join(sys.argv[1:])
        f.write_text(json.dumps(r, indent=1), encoding="utf-8")
        print(Path(d).name, json.dumps(r["measured"]))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("search")
    s.add_argument("--run", type=Path, required=True)
    s.add_argument("--budget", type=float, required=True)
    s.add_argument("--minutes", type=float, required=True, help="wall-clock budget of the search")
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("prune")
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--method", choices=("none", "uniform_l1", "taylor", "rl", "gumbel"), required=True)
    p.add_argument("--budget", type=float, default=1.0)
    p.add_argument("--ratios", type=Path, help="RL search result: the counts for --method rl; the optional prior for --method gumbel")
    p.add_argument("--finetune-minutes", type=float, help="wall-clock fine-tuning budget (0 with no --finetune-steps: no fine-tuning)")
    p.add_argument("--finetune-steps", type=int, help="fine-tune for exactly this many steps (also stops at --finetune-minutes if given)")
    p.add_argument("--seed", type=int, default=0, help="seed of the gate search; the fine-tune uses seed + 1")
    p.add_argument("--gate-steps", type=int, default=300, help="gumbel: gate-logit training steps")
    p.add_argument("--gate-batch", type=int, default=16)
    p.add_argument("--gate-lr", type=float, default=0.1, help="gumbel: Adam lr of the gate logits")
    p.add_argument("--gate-lambda", type=float, default=2.0, help="gumbel: weight of relu(memory / budget - 1)")
    p.add_argument("--gate-mu", type=float, default=0.1, help="gumbel: weight of relu(1 - memory / budget)")
    p.add_argument("--gate-distill", type=float, default=0.5, help="gumbel: weight of agreement with the unpruned model")
    p.add_argument("--no-fill", action="store_true", help="gumbel: do not reopen groups to fill the budget after the search")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--out", type=Path, required=True)
    t = sub.add_parser("table")
    t.add_argument("--dirs", nargs="+", required=True)
    t.add_argument("--out", type=Path)
    rm = sub.add_parser("remeasure")
    rm.add_argument("--dirs", nargs="+", required=True)
    rm.add_argument("--size", type=int, default=160)
    rm.add_argument("--repeats", type=int, default=5, help="fresh processes per model; the median is kept")
    args = ap.parse_args(argv)
    if args.cmd == "prune" and args.finetune_minutes is None and args.finetune_steps is None:
        ap.error("prune needs --finetune-minutes and/or --finetune-steps")
    return {"search": cmd_search, "prune": cmd_prune, "table": cmd_table, "remeasure": cmd_remeasure}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
