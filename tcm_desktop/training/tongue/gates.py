"""Gradient reparameterisation of the pruning decision: Gumbel-sigmoid channel gates with
dynamic channel grouping, trained against a differentiable copy of the computed memory model.

Used by ``rl_prune prune --method gumbel`` (see rl_prune's module doc for the command):

    python -m tcm_desktop.training.tongue.rl_prune prune --run runs/tongue/main --method gumbel --budget 0.6 \
        --gate-steps 300 --finetune-steps 180 --out runs/tongue/prune_gumbel_b60 [--ratios runs/tongue/rl_b60.json]

Channel groups ("dynamic channel grouping"). Every prunable layer (the 15 MBConv expansion
layers, ``models.prunable_layers``) gets one gate per group of ``ALIGN`` = 8 hidden channels,
so every gate decision keeps the layer 8-aligned. The groups are not fixed index blocks
(0-7, 8-15, ...: arbitrary with respect to what the channels do) but are formed from the
network at hand: within each layer the channels are ranked by the L1 norm of their expand-conv
filter and consecutive runs of 8 in that ranking form a group, so a gate switches 8 channels
of similar magnitude and closing one never throws away a strong channel together with weak
ones. L1 is the ranking the uniform-L1 and RL methods use to pick channels, so the comparison
isolates what the gates learn (how many groups per layer, and which ones). Grouping by
filter similarity (clustering) was rejected: it would put redundant copies of one feature in
the same group, and one gate would remove all copies at once. The network weights are frozen
during the gate search (below), so the ranking cannot change and the groups are computed once
per search, from whatever model the search is given.

Gates. Per group a learnable logit l; per step a Gumbel-sigmoid sample
y = sigmoid((l + log u - log(1 - u)) / tau), u ~ U(0, 1), with the temperature tau annealed
geometrically from 1.0 to 0.2 over the steps. The forward pass uses the hard gate
z = 1[l + noise > 0] (exactly 0 or 1; P(z = 1) = sigmoid(l) at any tau), the backward pass
the gradient of y (straight-through estimator). The gate multiplies the block's hidden
channels at the input of the project conv, i.e. after expand conv + BN0 + ReLU6 + depthwise
conv + BN1 + ReLU6 (the Lite0 blocks have no squeeze-excitation). It is applied there rather
than before the depthwise conv because only there is a closed gate identical to removing the
channel: a channel zeroed before the depthwise conv still sends the constant
ReLU6(BN1 shift) into the project conv (and would corrupt BN1's running statistics).

Memory. ``memory_bytes`` evaluates ``rl_prune.memory_terms`` (the computed memory model: 4 x
(parameters + peak conv input+output + skip tensors)) on float64 torch scalars, with the
expected kept channels per layer 8 x sum_g sigmoid(l_g) (the expectation of the sampled hard
gates), so it is differentiable (through the weights, linear in the kept fraction, and through
the peak-activation max) and, at hard 0/1 gates, performs the same float operations in the same
order as ``memory(prof, keep_fractions(prof, counts))`` and gives the same number.

Loss = the task loss of ``train_seg.train_loop`` (BCE + soft Dice on the mask + 0.5 x class-
weighted attribute cross-entropy) + ``distill`` x agreement with the unpruned model (the same
frozen network with all gates open: Bernoulli KL on the mask pixels + KL on the attribute
distributions) + lam x relu(E[memory] / budget - 1) + mu x relu(1 - E[memory] / budget).
The last, small (mu << lam) term penalises being under budget, so the search settles at the
budget instead of drifting below it (the task loss alone pushes gates open only weakly, and
Adam's momentum would carry the logits past the budget line).

What is trained: only the gate logits (Adam, ``lr``). The network weights are frozen and the
model stays in eval mode (BatchNorm uses its trained statistics, as ``taylor_importance``
scores the network). Reasons: every method then gets exactly the same weight training (the
fine-tuning in ``cmd_prune``), so the table compares the choice of channels, not extra training;
the groups cannot go stale; a step costs about a forward + an activation-only backward.

Initialisation: all open (logit 3 + a +-0.25 tilt by L1 rank of the group), or, with an RL
result (``--ratios``), every group of layer i at logit(r_i) + the same tilt, r_i = the RL's kept
fraction clipped to [0.05, 0.95]: the RL's ratio is the prior for how many, the gates choose
which (and may move the ratio).

Decision: after the steps, group g is kept iff l_g > 0 (the tau -> 0 limit without noise); at
least one group per layer. If that is over budget, the open group with the lowest logit is
closed until it fits; then (``fill``) closed groups are reopened in order of decreasing logit
wherever one still fits, so the model uses its budget like the other methods do (uniform L1
takes the largest ratio that fits, Taylor stops as soon as it fits).
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from tcm_desktop.training.tongue.data import SOURCES, Cache
from tcm_desktop.training.tongue.models import TongueNet, prunable_layers
from tcm_desktop.training.tongue.rl_prune import ALIGN, keep_fractions, l1_importance, memory, memory_terms, profile


# --------------------------------------------------------------------------- grouping
def channel_groups(importance: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
    """Group index of every hidden channel: channels ranked by importance (descending, stable),
    consecutive runs of ALIGN in that ranking form a group (group 0 = the strongest channels)."""
    out = {}
    for i, s in importance.items():
        c = len(s)
        if c % ALIGN:
            raise ValueError(f"layer {i}: {c} channels is not a multiple of {ALIGN}")
        order = np.argsort(-np.asarray(s), kind="stable")
        g = np.empty(c, np.int64)
        g[order] = np.arange(c) // ALIGN
        out[i] = g
    return out


# --------------------------------------------------------------------------- gates
def gumbel_sigmoid(logits: torch.Tensor, tau: float, noise: bool = True, generator: torch.Generator | None = None) -> torch.Tensor:
    """Hard 0/1 gates in the forward pass, the gradient of the relaxed sample in the backward pass."""
    z = logits
    if noise:
        u = torch.rand(logits.shape, generator=generator, dtype=logits.dtype).clamp(1e-6, 1 - 1e-6)
        z = logits + torch.log(u) - torch.log1p(-u)
    soft = torch.sigmoid(z / tau)
    hard = (z > 0).to(soft.dtype)
    return hard + (soft - soft.detach())  # exactly 0/1 forward, d soft / d logits backward


class ChannelGates(nn.Module):
    """One logit per channel group of every prunable layer; multiplies the hidden channels at
    the project conv's input while attached and ``active``."""

    def __init__(self, groups: dict[int, np.ndarray], init: dict[int, np.ndarray]):
        super().__init__()
        self.layers = sorted(groups)
        self.logits = nn.ParameterDict({str(i): nn.Parameter(torch.as_tensor(np.asarray(init[i], np.float32)).clone()) for i in self.layers})
        for i in self.layers:
            self.register_buffer(f"group_of_{i}", torch.as_tensor(groups[i]), persistent=False)
        self.current: dict[int, torch.Tensor] = {}
        self.active = True
        self._hooks: list = []

    def logit(self, i: int) -> torch.Tensor:
        return self.logits[str(i)]

    def group_of(self, i: int) -> torch.Tensor:
        return getattr(self, f"group_of_{i}")

    def sample(self, tau: float, noise: bool = True, generator: torch.Generator | None = None) -> dict[int, torch.Tensor]:
        self.current = {i: gumbel_sigmoid(self.logit(i), tau, noise, generator) for i in self.layers}
        return self.current

    def set_hard(self, z: dict[int, torch.Tensor]) -> None:
        self.current = {i: torch.as_tensor(z[i], dtype=torch.float32) for i in self.layers}

    def expected_kept(self) -> dict[int, torch.Tensor]:
        """Expected kept channels per layer: ALIGN x sum of P(gate open) (float64)."""
        return {i: ALIGN * torch.sigmoid(self.logit(i).double()).sum() for i in self.layers}

    def attach(self, model: TongueNet) -> ChannelGates:
        self.detach()
        for i, _ in prunable_layers(model):
            self._hooks.append(model.blocks[i]._project_conv.register_forward_pre_hook(self._hook(i)))
        return self

    def _hook(self, i: int):
        def pre(m, inp):
            if not self.active or i not in self.current:
                return None
            return (inp[0] * self.current[i][self.group_of(i)].view(1, -1, 1, 1),)
        return pre

    def detach(self) -> None:
        for h in self._hooks:
            h.remove()
        self._hooks = []


def init_logits(groups: dict[int, np.ndarray], prior_counts: dict[int, int] | None = None, open_logit: float = 3.0, tilt: float = 0.25) -> dict[int, np.ndarray]:
    """All open (``open_logit``), or logit(kept fraction) from a prior (the RL's counts), plus
    a tilt from +tilt (strongest group) to -tilt (weakest) so ties follow the L1 ranking."""
    out = {}
    for i, g in groups.items():
        n = int(g.max()) + 1
        ramp = tilt * (1 - 2 * np.arange(n) / max(1, n - 1))
        if prior_counts is None:
            base = open_logit
        else:
            r = float(np.clip(prior_counts[i] / len(g), 0.05, 0.95))
            base = math.log(r / (1 - r))
        out[i] = base + ramp
    return out


# --------------------------------------------------------------------------- memory
def memory_bytes(prof: dict, kept: dict[int, torch.Tensor]) -> torch.Tensor:
    """The computed memory model (bytes, before rounding down) as a differentiable function of
    the kept channels per layer (float64 tensors). Equal to ``memory(prof, keep_fractions(prof,
    counts))["total_bytes"]`` (after ``int``) when ``kept`` holds those integer counts."""
    keep = {i: kept[i] / prof["channels"][i] for i in kept}
    n_params, act = memory_terms(prof, keep)
    return torch.as_tensor(4 * (n_params + act), dtype=torch.float64)


def memory_penalty(mem: torch.Tensor, budget_bytes: float, lam: float, mu: float) -> torch.Tensor:
    r = mem / budget_bytes
    return lam * F.relu(r - 1) + mu * F.relu(1 - r)


# --------------------------------------------------------------------------- decision
def derive_counts(prof: dict, logits: dict[int, np.ndarray], groups: dict[int, np.ndarray], budget_bytes: float,
                  fill: bool = True) -> tuple[dict[int, int], dict[int, np.ndarray], dict]:
    """Hard decision from the logits (open iff > 0, >= 1 group per layer), repaired to fit the
    budget (close the lowest-logit open groups), then optionally filled (reopen the highest-
    logit closed groups that still fit). Returns counts, per-channel importance for
    ``rl_prune.removal_sets`` (removes exactly the channels of closed groups), and a summary
    (``open``: the per-layer boolean open mask of the groups)."""
    lg = {i: np.asarray(logits[i], np.float64) for i in prof["channels"]}
    op = {i: lg[i] > 0 for i in lg}
    forced = 0
    for i in op:
        if not op[i].any():
            op[i][int(np.argmax(lg[i]))] = True
            forced += 1

    def counts() -> dict[int, int]:
        return {i: ALIGN * int(op[i].sum()) for i in prof["channels"]}

    def mem() -> int:
        return memory(prof, keep_fractions(prof, counts()))["total_bytes"]

    before = mem()
    closed = 0
    while mem() > budget_bytes:
        cand = [(lg[i][g], i, int(g)) for i in op if op[i].sum() > 1 for g in np.nonzero(op[i])[0]]
        if not cand:
            raise ValueError("budget too small even with one group of 8 channels per layer")
        _, i, g = min(cand)
        op[i][g] = False
        closed += 1
    reopened = 0
    if fill:
        shut = sorted(((lg[j][g], j, int(g)) for j in op for g in np.nonzero(~op[j])[0]), reverse=True)
        for _, i, g in shut:
            op[i][g] = True
            if mem() > budget_bytes:
                op[i][g] = False
            else:
                reopened += 1
    cnt = counts()
    imp = {i: 2.0 * op[i][groups[i]] + 1 / (1 + np.exp(-lg[i][groups[i]])) for i in op}
    info = {"memory_bytes_at_logit_sign": before, "forced_open_groups": forced, "groups_closed_to_fit": closed,
            "groups_reopened_to_fill": reopened, "memory_bytes": mem(), "open": op}
    return cnt, imp, info


# --------------------------------------------------------------------------- search
def _kl_agreement(lg, at, t_lg, t_at) -> torch.Tensor:
    p = torch.sigmoid(t_lg)
    mask_kl = F.binary_cross_entropy_with_logits(lg, p) - F.binary_cross_entropy_with_logits(t_lg, p)
    attr_kl = F.kl_div(F.log_softmax(at, -1), F.log_softmax(t_at, -1), log_target=True, reduction="none").sum(-1).mean()
    return mask_kl + attr_kl


def gumbel_search(model: TongueNet, c: Cache, budget_frac: float, size: int, steps: int, *, prior_counts: dict[int, int] | None = None,
                  batch: int = 16, lr: float = 0.1, lam: float = 2.0, mu: float = 0.1, distill: float = 0.5,
                  tau: tuple[float, float] = (1.0, 0.2), fill: bool = True, seed: int = 0, log=print, log_every: int = 10) -> dict:
    """Train the gate logits for ``steps`` steps on the frozen ``model``; returns the counts,
    the per-channel importance that ``removal_sets`` turns into the gates' removal sets, a
    summary and the per-step history. The model's weights and mode are left as they were."""
    from tcm_desktop.training.tongue.train_seg import (
        Sampler,
        attr_loss,
        augment,
        batch_tensors,
        class_weights,
        seg_loss,
    )

    t0 = time.time()
    prof = profile(model, size)
    base = memory(prof)["total_bytes"]
    budget = budget_frac * base
    groups = channel_groups(l1_importance(model))
    gates = ChannelGates(groups, init_logits(groups, prior_counts))
    grad_state = [(p, p.requires_grad) for p in model.parameters()]
    was_training = model.training
    for p, _ in grad_state:
        p.requires_grad_(False)
    model.eval()
    gates.attach(model)
    rng = np.random.default_rng(seed)
    gen = torch.Generator().manual_seed(seed)
    sampler = Sampler(c, list(SOURCES), "train", rng)
    cw = class_weights(c)
    opt = torch.optim.Adam(gates.parameters(), lr=lr)

    def mem_frac_of(kept: dict[int, int]) -> float:
        return memory(prof, keep_fractions(prof, kept))["total_bytes"] / base

    with torch.no_grad():
        start_frac = float(memory_bytes(prof, gates.expected_kept())) / base
    log(f"gumbel: budget {budget / 2**20:.2f} MiB ({budget_frac:.2f} x {base / 2**20:.2f}); {sum(int(g.max()) + 1 for g in groups.values())} groups "
        f"in {len(groups)} layers; init {'RL prior' if prior_counts else 'all open'}, expected memory {start_frac:.3f} x unpruned")
    history = []
    try:
        for step in range(steps):
            t = tau[0] * (tau[1] / tau[0]) ** (step / max(1, steps - 1))
            x, m, y, w = batch_tensors(c, sampler(batch))
            x, m = augment(x, m, rng)
            agree = torch.zeros(())
            if distill > 0:
                gates.active = False
                with torch.no_grad():
                    t_lg, t_at = model(x)
                gates.active = True
            z = gates.sample(t, generator=gen)
            lg, at = model(x)
            task = seg_loss(lg, m) + 0.5 * attr_loss(at, y, w, cw)
            if distill > 0:
                agree = _kl_agreement(lg, at, t_lg, t_at)
            mem = memory_bytes(prof, gates.expected_kept())
            pen = memory_penalty(mem, budget, lam, mu)
            loss = task + distill * agree + pen.float()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sample_cnt = {i: ALIGN * int(z[i].detach().sum()) for i in gates.layers}
            det_cnt = {i: ALIGN * max(1, int((gates.logit(i).detach() > 0).sum())) for i in gates.layers}
            h = {"step": step + 1, "tau": round(t, 4), "task": round(float(task.detach()), 4), "agree": round(float(agree.detach()), 4),
                 "penalty": round(float(pen.detach()), 4), "mem_frac_expected": round(float(mem.detach()) / base, 4),
                 "mem_frac_sample": round(mem_frac_of(sample_cnt), 4), "mem_frac_sign": round(mem_frac_of(det_cnt), 4),
                 "open_groups": int(sum(v // ALIGN for v in det_cnt.values()))}
            history.append(h)
            if (step + 1) % log_every == 0 or step + 1 == steps:
                log(f"gate step {step + 1}/{steps} t={(time.time() - t0) / 60:.1f}m tau={t:.3f} task={h['task']:.4f} agree={h['agree']:.4f} "
                    f"E[mem]={h['mem_frac_expected']:.3f} sample={h['mem_frac_sample']:.3f} sign={h['mem_frac_sign']:.3f} x unpruned (budget {budget_frac:.2f})")
    finally:
        gates.detach()
        for p, rg in grad_state:
            p.requires_grad_(rg)
        model.train(was_training)
    logits = {i: gates.logit(i).detach().numpy().astype(np.float64) for i in gates.layers}
    counts, imp, dec = derive_counts(prof, logits, groups, budget, fill=fill)
    frac = dec["memory_bytes"] / base
    log(f"gumbel decision: memory {frac:.4f} x unpruned (budget {budget_frac:.2f}); closed {dec['groups_closed_to_fit']} groups to fit, "
        f"reopened {dec['groups_reopened_to_fill']} to fill; counts {[counts[i] for i in sorted(counts)]}")
    summary = {"gate_steps": steps, "batch": batch, "lr": lr, "lam": lam, "mu": mu, "distill": distill, "tau": list(tau), "fill": fill, "seed": seed,
               "init": "rl_prior" if prior_counts else "all_open", "prior_counts": {str(k): v for k, v in prior_counts.items()} if prior_counts else None,
               "grouping": "L1 rank of the expand-conv filter within the layer, consecutive runs of 8",
               "n_groups": {str(i): int(g.max()) + 1 for i, g in groups.items()},
               "expected_mem_frac_start": round(start_frac, 4), "expected_mem_frac_end": history[-1]["mem_frac_expected"] if history else round(start_frac, 4),
               "mem_frac_at_logit_sign": round(dec["memory_bytes_at_logit_sign"] / base, 4), "mem_frac_final": round(frac, 4),
               **{k: v for k, v in dec.items() if k.startswith(("groups_", "forced"))}, "seconds": round(time.time() - t0, 1),
               "log": [h for h in history if h["step"] % log_every == 0 or h["step"] == steps]}
    return {"counts": counts, "importance": imp, "summary": summary, "history": history,
            "logits": {str(i): [round(float(v), 4) for v in logits[i]] for i in logits}}
