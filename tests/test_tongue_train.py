"""Training code on a tiny slice of the shared tongue data: splits, a few training steps,
the memory model, pruning with torch-pruning and a very short RL search."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_pruning")


@pytest.fixture(scope="module")
def tiny_cache(shared_data):
    from tcm_desktop.training.tongue.data import build_cache

    return build_cache(64, limit=6)


def test_splits_keep_l1_test_out_of_training(shared_data):
    from tcm_desktop.training.tongue.data import l1_labels, make_splits

    s = make_splits()
    l1 = l1_labels()
    te = s["tonguexpert"]
    test_l1 = [i for i in l1 if l1[i] and te.get(i) == "test"]
    assert len(test_l1) > 300
    assert make_splits() == s  # deterministic


def test_cache_never_trains_on_test_labels(tiny_cache):
    c = tiny_cache
    test = np.array([s == "test" for s in c.splits])
    assert (c.attr_w[test] == 0).all() and (c.attr[test] == -1).all()
    assert c.images.shape[1:] == (64, 64, 3) and set(np.unique(c.masks)) <= {0, 1}


def test_tiny_training_and_pruning(tiny_cache):
    from tcm_desktop.training.tongue import rl_prune as R
    from tcm_desktop.training.tongue.models import TongueNet, prunable_layers
    from tcm_desktop.training.tongue.train_seg import train_loop

    torch.manual_seed(0)
    torch.set_num_threads(1)
    m = TongueNet(64)
    info = train_loop(m, tiny_cache, sources=["tonguexpert", "biohit300", "ianmackenzie_seg741"], minutes=1, batch=4,
                      lr=1e-3, use_attr=True, max_steps=2)
    assert info["steps"] == 2
    prof = R.profile(m, 64)
    base = R.memory(prof)
    counts, ratio = R.uniform_counts(prof, 0.6 * base["total_bytes"])
    assert ratio < 1 and all(v % 8 == 0 for v in counts.values())
    comp = R.memory(prof, R.keep_fractions(prof, counts))
    assert comp["total_bytes"] <= 0.6 * base["total_bytes"]
    R.apply_pruning(m, R.removal_sets(R.l1_importance(m), counts), 64)
    assert {i: c.out_channels for i, c in prunable_layers(m)} == counts
    assert R.memory(R.profile(m, 64))["total_bytes"] == comp["total_bytes"]  # the computed model matches the pruned net
    lg, at = m(torch.rand(1, 3, 64, 64) * 255)
    assert lg.shape == (1, 1, 64, 64) and at.shape == (1, 4, 3)


def test_taylor_and_rl_search_run(tiny_cache):
    from tcm_desktop.training.tongue import rl_prune as R
    from tcm_desktop.training.tongue.models import TongueNet

    torch.manual_seed(0)
    m = TongueNet(64).eval()
    prof = R.profile(m, 64)
    budget = 0.5 * R.memory(prof)["total_bytes"]
    cnt = R.taylor_counts(prof, R.taylor_importance(m, tiny_cache, n_batches=1, batch=4), budget)
    assert R.memory(prof, R.keep_fractions(prof, cnt))["total_bytes"] <= budget
    res = R.rl_search(m, tiny_cache, 0.95, 5, 64, log=lambda s: None, samples=2, max_episodes=2)
    assert res["candidates"] >= 2 and res["best_proxy_quality"] >= 0


def test_metrics():
    from tcm_desktop.training.tongue.evaluate import balanced_accuracy, bootstrap, dice_iou, macro_f1

    y = np.array([0, 0, 1, 1, 2, 2])
    assert macro_f1(y, y, [0, 1, 2]) == 1.0 and balanced_accuracy(y, y, [0, 1, 2]) == 1.0
    assert balanced_accuracy(y, np.zeros_like(y), [0, 1, 2]) == pytest.approx(1 / 3)
    b = bootstrap(y, y, [0, 1, 2], n=20)
    assert b["macro_f1_ci95"] == [1.0, 1.0]
    d, i = dice_iou(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0]))
    assert d == pytest.approx(2 / 3) and i == pytest.approx(0.5)
