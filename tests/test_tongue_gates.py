"""Gumbel-sigmoid channel gates (tcm_desktop/training/tongue/gates.py): the straight-through
estimator, the differentiable memory model against the computed one on the real TongueNet,
the budget penalty, the hard decision and the pruned model it gives. No shared data needed
(a tiny synthetic cache stands in for the images in the search test)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_pruning")

from tcm_desktop.training.tongue import gates as G  # noqa: E402
from tcm_desktop.training.tongue import rl_prune as R  # noqa: E402
from tcm_desktop.training.tongue.models import TongueNet, prunable_layers  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def net160():
    """The real architecture at the deployment size (weights do not matter for the memory model)."""
    torch.manual_seed(0)
    m = TongueNet(160, pretrained=False).eval()
    return m, R.profile(m, 160)


@pytest.fixture(scope="module")
def net64():
    """The real network with its ImageNet encoder weights (so the L1 ranking is meaningful), small input."""
    torch.manual_seed(0)
    return TongueNet(64).eval()


def _random_open(groups, rng, p_lo=0.1, p_hi=0.95):
    out = {}
    for i, g in groups.items():
        n = int(g.max()) + 1
        z = rng.random(n) < rng.uniform(p_lo, p_hi)
        if not z.any():
            z[rng.integers(n)] = True
        out[i] = z
    return out


def test_straight_through_gradient_reaches_logits():
    torch.manual_seed(0)
    logits = torch.randn(64, dtype=torch.float64, requires_grad=True)
    w = torch.randn(64, dtype=torch.float64)
    z = G.gumbel_sigmoid(logits, tau=0.5, generator=torch.Generator().manual_seed(1))
    assert set(z.detach().unique().tolist()) <= {0.0, 1.0}
    (z * w).sum().backward()
    assert torch.isfinite(logits.grad).all() and (logits.grad != 0).all()
    # without noise the backward pass is exactly d sigmoid(l / tau) / dl
    logits.grad = None
    z = G.gumbel_sigmoid(logits, tau=0.5, noise=False)
    (z * w).sum().backward()
    s = torch.sigmoid(logits.detach() / 0.5)
    assert torch.allclose(logits.grad, w * s * (1 - s) / 0.5)
    assert torch.equal(z.detach(), (logits.detach() > 0).double())


def test_hard_gates_follow_logit_sign_as_temperature_goes_to_zero():
    logits = torch.tensor([-3.0, -0.2, -1e-3, 1e-3, 0.4, 5.0])
    z = G.gumbel_sigmoid(logits, tau=1e-4, noise=False)
    assert torch.equal(z, (logits > 0).float())
    soft = torch.sigmoid(logits / 1e-4)
    assert torch.allclose(soft, (logits > 0).float(), atol=1e-4)
    # with noise, far-from-zero logits keep their sign (logistic noise beyond 25 has p < 1.4e-11)
    big = torch.tensor([-25.0, 25.0] * 50)
    gen = torch.Generator().manual_seed(0)
    for _ in range(5):
        assert torch.equal(G.gumbel_sigmoid(big, tau=1e-3, generator=gen), (big > 0).float())
    # a zero logit opens about half of the time: the noise is really there
    zs = torch.stack([G.gumbel_sigmoid(torch.zeros(200), 0.5, generator=gen) for _ in range(5)])
    assert 0.35 < float(zs.mean()) < 0.65


def test_channel_groups_are_l1_ranked_runs_of_eight(net64):
    imp = R.l1_importance(net64)
    groups = G.channel_groups(imp)
    for i, conv in prunable_layers(net64):
        g = groups[i]
        assert len(g) == conv.out_channels and np.bincount(g).tolist() == [R.ALIGN] * (conv.out_channels // R.ALIGN)
        means = [imp[i][g == k].mean() for k in range(g.max() + 1)]
        assert all(a >= b for a, b in zip(means, means[1:]))  # group 0 strongest
        assert imp[i][g == 0].min() >= imp[i][g == 1].max()
    with pytest.raises(ValueError):
        G.channel_groups({1: np.ones(12)})


def test_differentiable_memory_equals_computed_memory_at_hard_gates(net160):
    m, prof = net160
    groups = G.channel_groups(R.l1_importance(m))
    base = R.memory(prof)["total_bytes"]
    full = G.memory_bytes(prof, {i: torch.tensor(float(c), dtype=torch.float64) for i, c in prof["channels"].items()})
    assert int(full) == base
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(6):
        op = _random_open(groups, rng)
        z = {i: torch.as_tensor(op[i], dtype=torch.float64).requires_grad_(True) for i in op}
        kept = {i: R.ALIGN * z[i].sum() for i in z}
        mem = G.memory_bytes(prof, kept)
        counts = {i: R.ALIGN * int(op[i].sum()) for i in op}
        ref = R.memory(prof, R.keep_fractions(prof, counts))["total_bytes"]
        assert int(mem.detach()) == ref and 0 <= float(mem.detach()) - ref < 1
        seen.add(ref)
        mem.backward()
        for i in z:  # every layer's weights are in the model: more channels, more memory
            assert (z[i].grad > 0).all()
            assert torch.allclose(z[i].grad, z[i].grad[0].expand_as(z[i].grad))  # all groups of a layer cost the same
        assert ref < base
    assert len(seen) == 6
    # the expected-kept form (used in training) reduces to the same function
    gates = G.ChannelGates(groups, G.init_logits(groups))
    ek = gates.expected_kept()
    assert int(G.memory_bytes(prof, ek).detach()) == R.memory(prof, R.keep_fractions(prof, {i: float(v.detach()) for i, v in ek.items()}))["total_bytes"]


def test_memory_penalty_gradient_closes_gates_over_budget_and_not_under(net160):
    m, prof = net160
    groups = G.channel_groups(R.l1_importance(m))
    base = R.memory(prof)["total_bytes"]
    gates = G.ChannelGates(groups, G.init_logits(groups))
    mem0 = float(G.memory_bytes(prof, gates.expected_kept()).detach())
    pen = G.memory_penalty(G.memory_bytes(prof, gates.expected_kept()), 0.6 * base, lam=2.0, mu=0.1)
    assert float(pen.detach()) > 0
    pen.backward()
    grads = torch.cat([gates.logit(i).grad for i in gates.layers])
    assert (grads > 0).all()  # descent lowers every logit
    opt = torch.optim.SGD(gates.parameters(), lr=50.0)
    opt.step()
    assert float(G.memory_bytes(prof, gates.expected_kept()).detach()) < mem0
    # the push per group follows its cost: a group of block 15 (604,800 parameters / 1152 channels) costs more than
    # one of block 2 (8,784 / 144); block 1's hidden tensor is the activation peak, so its groups cost the most
    g1, g2, g15 = (float(gates.logit(i).grad.mean()) for i in (1, 2, 15))
    assert max(prof["convs"], key=lambda t: t[1] + t[3])[0] == "blocks.1._depthwise_conv"
    assert g1 > g15 > g2
    # under budget: no push to close; the small mu term pushes to open, nothing without it
    gates.zero_grad()
    G.memory_penalty(G.memory_bytes(prof, gates.expected_kept()), 1.5 * base, lam=2.0, mu=0.0).backward()
    assert all(gates.logit(i).grad is None or (gates.logit(i).grad == 0).all() for i in gates.layers)
    gates.zero_grad()
    G.memory_penalty(G.memory_bytes(prof, gates.expected_kept()), 1.5 * base, lam=2.0, mu=0.1).backward()
    assert (torch.cat([gates.logit(i).grad for i in gates.layers]) < 0).all()


@pytest.mark.parametrize("budget", [0.6, 0.45])
def test_derived_counts_are_aligned_within_budget_and_fill_it(net160, budget):
    m, prof = net160
    groups = G.channel_groups(R.l1_importance(m))
    base = R.memory(prof)["total_bytes"]
    rng = np.random.default_rng(1)
    logits = {i: rng.normal(0.5, 2.0, int(g.max()) + 1) for i, g in groups.items()}  # mostly open: over budget
    cnt, imp, info = G.derive_counts(prof, logits, groups, budget * base)
    assert info["memory_bytes_at_logit_sign"] > budget * base and info["groups_closed_to_fit"] > 0
    mem = R.memory(prof, R.keep_fractions(prof, cnt))["total_bytes"]
    assert mem == info["memory_bytes"] <= budget * base
    for i, c in cnt.items():
        assert c % R.ALIGN == 0 and R.ALIGN <= c <= prof["channels"][i]
        assert c == R.ALIGN * int(info["open"][i].sum())
    # the fill is maximal: no closed group still fits (all groups of a layer cost the same)
    for i, op in info["open"].items():
        if not op.all():
            more = dict(cnt)
            more[i] += R.ALIGN
            assert R.memory(prof, R.keep_fractions(prof, more))["total_bytes"] > budget * base
    # removal_sets removes exactly the channels of the closed groups
    rem = R.removal_sets(imp, cnt)
    for i, g in groups.items():
        assert set(rem[i]) == set(np.nonzero(~info["open"][i][g])[0].tolist())
    # the lowest logits were closed to fit: without fill, every closed group that was open at the sign decision
    # has a logit below every remaining open group of any layer that had more than one open group
    cnt2, _, info2 = G.derive_counts(prof, logits, groups, budget * base, fill=False)
    shut = [logits[i][g] for i in groups for g in np.nonzero((logits[i] > 0) & ~info2["open"][i])[0]]
    kept = [logits[i][g] for i in groups if info2["open"][i].sum() > 1 for g in np.nonzero(info2["open"][i])[0]]
    assert shut and max(shut) <= min(kept)
    assert info2["groups_reopened_to_fill"] == 0
    # all closed: one group per layer is forced open
    _, _, info3 = G.derive_counts(prof, {i: -np.ones_like(v) for i, v in logits.items()}, groups, budget * base)
    assert info3["forced_open_groups"] == len(groups)


def test_gated_model_equals_pruned_model_and_runs(net64):
    m = copy.deepcopy(net64)
    prof = R.profile(m, 64)
    base = R.memory(prof)["total_bytes"]
    groups = G.channel_groups(R.l1_importance(m))
    rng = np.random.default_rng(2)
    logits = {i: rng.normal(0, 1, int(g.max()) + 1) for i, g in groups.items()}
    cnt, imp, info = G.derive_counts(prof, logits, groups, 0.5 * base)
    x = torch.rand(2, 3, 64, 64) * 255
    gates = G.ChannelGates(groups, logits).attach(m)
    gates.set_hard({i: info["open"][i].astype(np.float32) for i in groups})
    with torch.no_grad():
        lg_g, at_g = m(x)
        gates.active = False
        lg_full, _ = m(x)
    gates.detach()
    assert not torch.allclose(lg_g, lg_full, atol=1e-3)  # the gates do something
    pruned = R.apply_pruning(m, R.removal_sets(imp, cnt), 64)
    assert {i: c.out_channels for i, c in prunable_layers(pruned)} == cnt
    assert R.memory(R.profile(pruned, 64))["total_bytes"] == R.memory(prof, R.keep_fractions(prof, cnt))["total_bytes"] <= 0.5 * base
    with torch.no_grad():
        lg_p, at_p = pruned(x)
    assert lg_p.shape == (2, 1, 64, 64) and at_p.shape == (2, 4, 3)
    # a closed gate at the project conv's input is exactly a removed channel
    assert torch.allclose(lg_p, lg_g, atol=1e-3, rtol=1e-4) and torch.allclose(at_p, at_g, atol=1e-3, rtol=1e-4)


def _synthetic_cache(size=64, seed=0):
    from tcm_desktop.training.tongue.data import SOURCES, Cache

    rng = np.random.default_rng(seed)
    ids, srcs, spl = [], [], []
    for s in SOURCES:
        for k, sp in enumerate(["train"] * 4 + ["val", "test"]):
            ids.append(f"{s}_{k}")
            srcs.append(s)
            spl.append(sp)
    n = len(ids)
    yy, xx = np.mgrid[:size, :size]
    masks = np.stack([((yy - size / 2) ** 2 / rng.uniform(80, 200) + (xx - size / 2) ** 2 / rng.uniform(80, 200) < 1).astype(np.uint8) for _ in range(n)])
    images = (rng.random((n, size, size, 3)) * 80 + masks[..., None] * 150).astype(np.uint8)
    attr = np.full((n, 4), -1, np.int64)
    attr_w = np.zeros((n, 4), np.float32)
    for j in range(n):
        if srcs[j] == "tonguexpert" and spl[j] == "train":
            attr[j] = rng.integers(0, 3, 4)
            attr_w[j] = 1.0 if j % 2 == 0 else 1 / 3
    return Cache(size, images, masks, ids, srcs, spl, attr, attr_w, np.full((n, 4), -1, np.int64))


def test_gumbel_search_runs_and_leaves_the_model_alone(net64):
    m = copy.deepcopy(net64)
    before = {k: v.clone() for k, v in m.state_dict().items()}
    x = torch.rand(1, 3, 64, 64) * 255
    with torch.no_grad():
        out0 = m(x)[0]
    c = _synthetic_cache()
    prior = {i: max(8, c_ // 2 // 8 * 8) for i, c_ in R.profile(m, 64)["channels"].items()}
    res = G.gumbel_search(m, c, 0.6, 64, 3, prior_counts=prior, batch=2, log=lambda s: None, log_every=1)
    assert len(res["history"]) == 3 and res["summary"]["init"] == "rl_prior"
    assert res["history"][0]["tau"] == 1.0 and res["history"][-1]["tau"] == pytest.approx(0.2)
    prof = R.profile(m, 64)
    assert R.memory(prof, R.keep_fractions(prof, res["counts"]))["total_bytes"] <= 0.6 * R.memory(prof)["total_bytes"]
    assert all(v % 8 == 0 for v in res["counts"].values())
    # the logits moved, the weights did not; no hooks left, grads re-enabled
    assert any(abs(a - b) > 1e-6 for i, g in res["logits"].items() for a, b in zip(g, G.init_logits(G.channel_groups(R.l1_importance(m)), prior)[int(i)]))
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())
    assert all(p.requires_grad for p in m.parameters())
    with torch.no_grad():
        assert torch.equal(m(x)[0], out0)
